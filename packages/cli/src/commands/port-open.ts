import type { PortShareLevel } from '@hangar/api';
import { defineCommand } from '../command.js';
import { environmentIdPattern, resolveEnvironment } from '../environments.js';
import { parsePort, portPositionals } from '../port-shares.js';
import { apiFlags, openSession } from '../session.js';

interface PortAccess {
  token: string;
  expiresAt: string;
  url: string;
  level: PortShareLevel;
}

/** The link a browser opens: the gateway exchanges the grant for a cookie and drops it. */
export function linkOf(access: PortAccess): string {
  const separator = access.url.includes('?') ? '&' : '?';
  return `${access.url}${separator}hangar_grant=${encodeURIComponent(access.token)}`;
}

export const command = defineCommand({
  synopsis: '<env> <port>',
  description:
    'Prints a link to a port inside an environment, served by its runner: open it in a browser ' +
    'before the grant in it expires (a few minutes); the runner then keeps the grant in a ' +
    'cookie for that port only. A private port opens only for its owner, an org port for ' +
    'members of the organization; a public port needs no link.',
  spec: {
    positionals: portPositionals,
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const port = parsePort(positionals.port, 'port open');
    const { api } = await openSession(io, flags);
    // Another member's environment is not listed to you, but its shared ports open by its id.
    const id = environmentIdPattern.test(positionals.env)
      ? positionals.env
      : (await resolveEnvironment(api, positionals.env)).id;
    const access = await api.post<PortAccess>(
      `/v1/environments/${encodeURIComponent(id)}/ports/${port}/access`,
    );
    const link = linkOf(access);
    out.result({ ...access, link }, () => link);
    out.info(
      `port ${port} of ${positionals.env} is ${access.level}; the link works until ${access.expiresAt}`,
    );
    return 0;
  },
});
