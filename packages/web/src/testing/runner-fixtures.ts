import type { CreatedRunner, Runner } from '../runners.js';

/** A runner as `GET /v1/runners` lists it, in `state`. */
export function runnerFixture(name: string, state: Runner['state'], extra: Partial<Runner> = {}) {
  const runner: Runner = {
    id: `run_${name.replaceAll('-', '').padEnd(16, 'a')}`,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    name,
    state,
    classes: [],
    createdAt: '2026-12-04T09:00:00.000Z',
    environmentCount: 2,
    ...extra,
  };
  if (state !== 'pending') {
    runner.publicKeyFingerprint ??= `SHA256:${name}fingerprintfingerprintfingerprint`;
    runner.lastSeenAt ??= '2026-12-04T10:00:00.000Z';
  }
  if (state === 'disabled') runner.disabledAt ??= '2026-12-04T10:30:00.000Z';
  return runner;
}

export const enrollmentTokenFixture = `hge_enr_aaaaaaaaaaaaaaaa_${'s'.repeat(43)}`;

export function createdRunnerFixture(name: string): CreatedRunner {
  return {
    runner: runnerFixture(name, 'pending', { environmentCount: 0 }),
    enrollmentToken: enrollmentTokenFixture,
    enrollmentExpiresAt: '2026-12-04T11:00:00.000Z',
  };
}
