import type { Environment } from '../client.js';

/** An environment as the API lists it, in `phase`. */
export function environmentFixture(
  name: string,
  phase: Environment['status']['phase'],
): Environment {
  return {
    id: `env_${name.padEnd(16, 'a')}`,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    runnerId: 'run_aaaaaaaaaaaaaaaa',
    name,
    generation: 1,
    statusVersion: 3,
    spec: {
      repository: { url: `/srv/repos/${name}`, ref: 'main' },
      class: 'small',
      desiredPhase: phase === 'stopped' ? 'stopped' : 'running',
    },
    status: {
      phase,
      observedGeneration: 1,
      conditions: [],
      steps: [],
      phaseChangedAt: '2026-12-04T10:00:00.000Z',
    },
    createdAt: '2026-12-04T09:59:00.000Z',
    updatedAt: '2026-12-04T10:00:00.000Z',
  };
}
