import { listTasks } from '../agent-client.js';
import { defineCommand } from '../command.js';
import { age, table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '[--all]',
  description:
    'Lists your agent tasks, newest first: state, model, environment, steps and tokens. ' +
    "With --all, every member's (owners and admins).",
  spec: {
    flags: {
      ...apiFlags,
      all: { type: 'boolean', describe: "every member's tasks (owners and admins)" },
    },
  },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const agentTasks = await listTasks(api, { all: flags.all });
    const now = Date.now();
    out.result({ agentTasks }, () => {
      if (agentTasks.length === 0) {
        return ['no agent tasks; start one with `hangar agent run --env ENV "<prompt>"`'];
      }
      return table(
        ['ID', 'STATE', 'MODEL', 'ENVIRONMENT', 'STEPS', 'TOKENS', 'CREATED'],
        agentTasks.map((task) => [
          task.id,
          task.reason ? `${task.state} (${task.reason})` : task.state,
          task.model,
          task.environmentId,
          String(task.steps),
          String(task.inputTokens + task.outputTokens),
          age(task.createdAt, now),
        ]),
      );
    });
    return 0;
  },
});
