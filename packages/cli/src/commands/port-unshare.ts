import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import { describeShare, parsePort, portPositionals, setShare } from '../port-shares.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<env> <port>',
  description: 'Makes a shared port of your environment private again: only you reach it.',
  spec: {
    positionals: portPositionals,
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const port = parsePort(positionals.port, 'port unshare');
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    const share = await setShare(api, environment.id, port, 'private');
    out.result(share, () => describeShare(share, environment.name));
    return 0;
  },
});
