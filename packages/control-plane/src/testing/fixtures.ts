import type { Environment } from '@hangar/api';
import { ProtocolRunner } from './fake-runner.js';
import type { TestControlPlane } from './harness.js';

/** Creates, enrolls and connects a protocol-speaking runner; returns it with its welcome. */
export async function connectedRunner(t: TestControlPlane, name = 'r1') {
  const created = await t.request<{ enrollmentToken: string; runner: { id: string } }>(
    'POST',
    '/v1/runners',
    { body: { name } },
  );
  const runner = new ProtocolRunner(t.url);
  const enrolled = await runner.enroll(created.body.enrollmentToken);
  if (!enrolled.ok) throw new Error(`enroll failed: ${enrolled.status}`);
  const welcome = await runner.connect();
  return { runner, welcome, enrollmentToken: created.body.enrollmentToken };
}

export async function createEnvironment(t: TestControlPlane, body: Record<string, unknown> = {}) {
  const response = await t.request<Environment>('POST', '/v1/environments', { body });
  if (response.status !== 201) throw new Error(`create failed: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Polls the API until the environment reaches `phase` (the runner reports asynchronously). */
export async function waitForPhase(t: TestControlPlane, id: string, phase: string) {
  let version = 0;
  for (let i = 0; i < 100; i += 1) {
    const response = await t.request<Environment>(
      'GET',
      `/v1/environments/${id}?afterVersion=${version}&waitMs=2000`,
    );
    if (response.body.status.phase === phase) return response.body;
    version = response.body.statusVersion;
  }
  throw new Error(`environment ${id} never reached ${phase}`);
}

/** A connected runner and one environment it reported `running`. */
export async function runningEnvironment(t: TestControlPlane) {
  const { runner } = await connectedRunner(t);
  const environment = await createEnvironment(t);
  runner.reportStatus(environment.id, { phase: 'running' }, 1);
  await waitForPhase(t, environment.id, 'running');
  return { runner, environment };
}
