import type { Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<id>',
  description: 'Enables a disabled runner again; it reconnects on its next retry.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'runner id (run_…)' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const path = `/v1/runners/${encodeURIComponent(positionals.id)}/enable`;
    const runner = await api.post<Runner>(path);
    out.result(runner, () => [`runner ${runner.name} (${runner.id}) is ${runner.state}`]);
    return 0;
  },
});
