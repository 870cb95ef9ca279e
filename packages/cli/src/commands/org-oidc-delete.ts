import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '',
  description:
    "Removes the organization's OpenID provider (owners and admins): nobody signs in through " +
    'it after this. `hangar org oidc set` configures one again.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const removed = await api.delete<{ removed: boolean }>('/v1/org/oidc');
    out.result(removed, () => ['removed the OpenID provider: nobody signs in through it now']);
    return 0;
  },
});
