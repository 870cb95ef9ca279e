import type { Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '<id>',
  description:
    'Disables a runner: its connection is closed at once, it is refused until enabled, and no access is granted to its environments.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'runner id (run_…)' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const path = `/v1/runners/${encodeURIComponent(positionals.id)}/disable`;
    const runner = await api.post<Runner>(path);
    out.result(runner, () => [`runner ${runner.name} (${runner.id}) is ${runner.state}`]);
    return 0;
  },
});
