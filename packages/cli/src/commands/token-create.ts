import { scopes, type ApiToken } from '@hangar/api';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '--scope S [--scope S]... [--expires 30d]',
  description:
    'Creates an API token for yourself, with at most your own scopes, and prints it once on ' +
    `stdout. Scopes: ${scopes.join(', ')}.`,
  spec: {
    flags: {
      ...apiFlags,
      scope: {
        type: 'string',
        valueName: 'S',
        multiple: true,
        required: true,
        describe: 'a scope the token may use',
      },
      expires: {
        type: 'duration',
        valueName: 'DURATION',
        min: 60,
        max: 31536000,
        describe: 'lifetime, such as 12h or 30d (default 30d; at most 365d)',
      },
    },
  },
  async run({ io, out }, { flags }) {
    const unknown = flags.scope.filter((scope) => !(scopes as readonly string[]).includes(scope));
    if (unknown.length > 0) {
      throw new UsageError(`unknown scope ${unknown.join(', ')}; scopes are ${scopes.join(', ')}`, {
        commandPath: 'token create',
        fields: [{ field: 'scope', message: `must be one of ${scopes.join(', ')}` }],
      });
    }
    const expiresInS = Math.round(flags.expires ?? 30 * 86400);
    const { api } = await openSession(io, flags);
    const created = await api.post<{ token: string; apiToken: ApiToken }>('/v1/tokens', {
      scopes: [...new Set(flags.scope)],
      expiresInS,
    });
    out.info(
      `token ${created.apiToken.id} with ${created.apiToken.scopes.join(' ')}, expires ` +
        `${created.apiToken.expiresAt}; it is shown only now`,
    );
    out.result(created, () => [created.token]);
    return 0;
  },
});
