import type { Secret } from '@hangar/api';
import { defineCommand } from '../command.js';
import { table } from '../output.js';
import { scopeText } from '../secret-scope.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '',
  description:
    "Lists the secrets you may see: the organization's, its projects', and your own. Names, " +
    'scope, how each is delivered, version, how many runners it is sealed to, and when it was ' +
    'last set. Never a value: the control plane does not have them.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const { secrets } = await api.get<{ secrets: Secret[] }>('/v1/secrets');
    out.result({ secrets }, () => {
      if (secrets.length === 0) return ['no secrets; set one with `hangar secret set <name>`'];
      return table(
        ['NAME', 'SCOPE', 'DELIVERY', 'TARGET', 'VERSION', 'RUNNERS', 'UPDATED'],
        secrets.map((secret) => [
          secret.name,
          scopeText(secret),
          secret.delivery,
          secret.target,
          String(secret.version),
          String(secret.runnerIds.length),
          secret.updatedAt,
        ]),
      );
    });
    return 0;
  },
});
