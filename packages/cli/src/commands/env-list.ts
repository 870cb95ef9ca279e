import type { Environment } from '@hangar/api';
import { defineCommand } from '../command.js';
import { listEnvironments } from '../environments.js';
import { age, table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

/** The table `env list` prints for a person. */
export function environmentTable(environments: readonly Environment[], now: number): string[] {
  return table(
    ['NAME', 'ID', 'PHASE', 'DESIRED', 'RUNNER', 'PROJECT', 'REPOSITORY', 'CREATED'],
    environments.map((environment) => [
      environment.name,
      environment.id,
      environment.status.phase,
      environment.spec.desiredPhase,
      environment.runnerId,
      environment.spec.project ?? '-',
      environment.spec.repository?.url ?? '-',
      age(environment.createdAt, now),
    ]),
  );
}

export const command = defineCommand({
  synopsis: '[--all]',
  description: 'Lists your environments (all of the organization for admins), oldest first.',
  spec: {
    flags: {
      ...apiFlags,
      all: { type: 'boolean', describe: 'include deleted environments' },
    },
  },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const environments = await listEnvironments(api, { includeDeleted: flags.all });
    const now = Date.now();
    out.result({ environments }, () => {
      if (environments.length === 0) {
        return ['no environments; create one with `hangar env create <repo> --wait`'];
      }
      return environmentTable(environments, now);
    });
    return 0;
  },
});
