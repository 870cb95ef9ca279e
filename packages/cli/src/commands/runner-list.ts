import type { Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { age, table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '',
  description:
    'Lists the runners of your organization: state (online, offline, disabled, pending), ' +
    'key fingerprints (identity, and the one secrets are sealed to), gateway, last seen, classes.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const { runners } = await api.get<{ runners: Runner[] }>('/v1/runners');
    const now = Date.now();
    out.result({ runners }, () => {
      if (runners.length === 0)
        return ['no runners; create one with `hangar runner create <name>`'];
      return table(
        ['NAME', 'ID', 'STATE', 'KEY', 'SECRETS KEY', 'GATEWAY', 'LAST SEEN', 'CLASSES'],
        runners.map((runner) => [
          runner.name,
          runner.id,
          runner.state,
          runner.publicKeyFingerprint ?? '-',
          runner.encryptionKeyFingerprint ?? '-',
          runner.gatewayUrl ?? '-',
          age(runner.lastSeenAt, now),
          runner.classes.map((item) => item.name).join(',') || '-',
        ]),
      );
    });
    return 0;
  },
});
