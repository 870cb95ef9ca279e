import { getTask } from '../agent-client.js';
import { followTranscript } from '../agent-follow.js';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<id> [-f]',
  description:
    "Prints an agent task's transcript, read from its runner: what the model said, each tool " +
    'call and a short result, and how it ended. With -f, follows it live until the task ends, ' +
    'then exits 0 when it succeeded, 1 otherwise. With --json, each event as one line of JSON.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'agent task id (agt_…)' }],
    flags: {
      ...apiFlags,
      follow: { type: 'boolean', short: 'f', describe: 'follow the transcript until the end' },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const task = await getTask(api, positionals.id);
    const final = await followTranscript(api, out, task, { follow: flags.follow });
    if (!flags.follow) return 0;
    return final.state === 'succeeded' ? 0 : 1;
  },
});
