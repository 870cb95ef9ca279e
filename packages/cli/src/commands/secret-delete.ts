import { HangarError, type Secret } from '@hangar/api';
import { defineCommand } from '../command.js';
import { chosenScope, findSecret, scopeFlags, scopeText } from '../secret-scope.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<name> [--org | --project P | --user]',
  description:
    'Deletes a secret (your own by default). Environments stop receiving it at their next ' +
    'start. Organization and project secrets are deleted by owners and admins.',
  spec: {
    positionals: [{ name: 'name', required: true, describe: 'the secret name' }],
    flags: { ...apiFlags, ...scopeFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const chosen = chosenScope(flags, 'secret delete');
    const { api } = await openSession(io, flags);
    const me = await api.get<{ userId: string }>('/v1/whoami');
    const found = await findSecret(api, positionals.name, chosen, me.userId);
    if (!found) {
      throw new HangarError(
        'not_found',
        `there is no ${scopeText(chosen)} secret ${positionals.name}; \`hangar secret list\` ` +
          'shows the secrets you may see',
      );
    }
    const deleted = await api.delete<Secret>(`/v1/secrets/${encodeURIComponent(found.id)}`);
    out.result(deleted, () => [
      `deleted ${scopeText(deleted)} secret ${deleted.name} (${deleted.id})`,
    ]);
    return 0;
  },
});
