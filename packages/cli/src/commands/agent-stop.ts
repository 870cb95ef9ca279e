import { stopTask } from '../agent-client.js';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<id>',
  description:
    'Stops an agent task: its runner aborts the model call and ends every command the task ' +
    'started, then records it cancelled. Your own tasks, or any for owners and admins.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'agent task id (agt_…)' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const task = await stopTask(api, positionals.id);
    out.result(task, () => `${task.id}  ${task.state}  stopping`);
    out.info(
      `asked the runner to stop ${task.id}; \`hangar agent get ${task.id}\` shows when it ended`,
    );
    return 0;
  },
});
