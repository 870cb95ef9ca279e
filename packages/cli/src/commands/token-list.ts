import type { ApiToken } from '@hangar/api';
import { defineCommand } from '../command.js';
import { table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

function stateOf(token: ApiToken, now: number): string {
  if (token.revokedAt) return `revoked ${token.revokedAt}`;
  if (Date.parse(token.expiresAt) <= now) return 'expired';
  return 'active';
}

export const command = defineCommand({
  synopsis: '[--user USER_ID]',
  description:
    'Lists your API tokens, revoked and expired ones too: id, scopes, created, expires, last ' +
    'used, state. Never the tokens themselves: those are shown only when created.',
  spec: {
    flags: {
      ...apiFlags,
      user: {
        type: 'string',
        valueName: 'USER_ID',
        describe: "another member's tokens (owners and admins)",
      },
    },
  },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const query = flags.user === undefined ? undefined : { userId: flags.user };
    const { tokens } = await api.get<{ tokens: ApiToken[] }>('/v1/tokens', query);
    const now = Date.now();
    out.result({ tokens }, () => {
      if (tokens.length === 0) return ['no API tokens'];
      return table(
        ['ID', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
        tokens.map((token) => [
          token.id,
          token.scopes.join(' '),
          token.createdAt,
          token.expiresAt,
          token.lastUsedAt ?? 'never',
          stateOf(token, now),
        ]),
      );
    });
    return 0;
  },
});
