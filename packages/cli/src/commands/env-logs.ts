import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import { fetchLifecycleLog } from '../gateway.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<env> [--tail-bytes N]',
  description:
    'Prints the lifecycle log of an environment (what its devcontainer lifecycle commands ' +
    'printed), read straight from its runner; it never passes through the control plane.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    flags: {
      ...apiFlags,
      'tail-bytes': {
        type: 'integer',
        valueName: 'N',
        min: 1,
        max: 16 * 1024 * 1024,
        describe: 'print at most the last N bytes (default 1 MiB)',
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    const tailBytes = flags['tail-bytes'];
    const log = await fetchLifecycleLog(api, environment.id, tailBytes ? { tailBytes } : {});
    if (out.json) {
      out.result({ environmentId: environment.id, log: log.toString('utf8') }, () => []);
    } else {
      out.raw(log);
    }
    return 0;
  },
});
