import type { Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<id>',
  description:
    'Asks a runner to replace its key pair. The runner makes the new key itself and proves it ' +
    'over its connection, now or when it next connects; from then on its old key is refused. ' +
    '`hangar runner list` shows the new fingerprint once it is done.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'runner id (run_…)' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const path = `/v1/runners/${encodeURIComponent(positionals.id)}/rotate-key`;
    const runner = await api.post<Runner>(path);
    out.result(runner, () => [
      `key rotation requested for runner ${runner.name} (${runner.id}); ` +
        `current key ${runner.publicKeyFingerprint ?? '-'}`,
    ]);
    return 0;
  },
});
