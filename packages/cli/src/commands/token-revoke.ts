import type { ApiToken } from '@hangar/api';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { apiFlags, openSession } from '../session.js';

const tokenIdPattern = /^tok_[0-9a-z]{8,40}$/;

export const command = defineCommand({
  synopsis: '<id>',
  description:
    'Revokes an API token by id: one of yours, or any in the organization for owners and ' +
    'admins. The token is refused from its next request on, even if it is the one in use.',
  spec: {
    positionals: [
      { name: 'id', required: true, describe: 'token id (tok_…), from `hangar token list`' },
    ],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    if (!tokenIdPattern.test(positionals.id)) {
      throw new UsageError(
        'the token id must look like tok_…; `hangar token list` shows your tokens',
        { commandPath: 'token revoke', fields: [{ field: 'id', message: 'must be a token id' }] },
      );
    }
    const { api } = await openSession(io, flags);
    const revoked = await api.delete<ApiToken>(`/v1/tokens/${encodeURIComponent(positionals.id)}`);
    out.result(revoked, () => [`revoked ${revoked.id} (${revoked.scopes.join(' ')})`]);
    return 0;
  },
});
