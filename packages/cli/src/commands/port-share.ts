import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import {
  describeShare,
  parseLevel,
  parsePort,
  portPositionals,
  setShare,
  shareLevels,
} from '../port-shares.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<env> <port> [--level org|public|private]',
  description:
    "Shares a port of your environment through its runner's gateway: org (members of the " +
    'organization, the default), public (anyone with the link, only if the organization ' +
    'policy allows it) or private (only you). Nothing in the environment restarts.',
  spec: {
    positionals: portPositionals,
    flags: {
      ...apiFlags,
      level: {
        type: 'string',
        valueName: 'LEVEL',
        describe: `one of ${shareLevels.join(', ')} (default org)`,
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const port = parsePort(positionals.port, 'port share');
    const level = parseLevel(flags.level ?? 'org', 'port share', 'level');
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    const share = await setShare(api, environment.id, port, level);
    out.result(share, () => describeShare(share, environment.name));
    return 0;
  },
});
