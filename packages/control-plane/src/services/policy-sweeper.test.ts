import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord, DesiredEnvironment, Environment } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { sweepPolicies } from './policy-sweeper.js';

const minuteMs = 60_000;

/** An environment its runner reports running since `sinceMs` (the runner's phaseChangedAt). */
async function runningSince(
  t: TestControlPlane,
  runner: ProtocolRunner,
  name: string,
  sinceMs: number,
): Promise<Environment> {
  const created = await createEnvironment(t, { name });
  const phaseChangedAt = new Date(sinceMs).toISOString();
  runner.reportStatus(created.id, { phase: 'running', phaseChangedAt }, 1);
  return waitForPhase(t, created.id, 'running');
}

/** Waits until the control plane has stored an activity time for each environment. */
async function activityStored(t: TestControlPlane, ids: readonly string[]): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const reads = await Promise.all(
      ids.map((id) => t.request<Environment>('GET', `/v1/environments/${id}`)),
    );
    if (reads.every((read) => read.body.lastActiveAt !== undefined)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the activity was never stored');
}

async function desiredPhaseOf(t: TestControlPlane, id: string): Promise<string> {
  const response = await t.request<Environment>('GET', `/v1/environments/${id}`);
  return response.body.spec.desiredPhase;
}

/** The newest desired state the runner received for the environment. */
function lastPush(runner: ProtocolRunner, id: string): DesiredEnvironment | undefined {
  return runner.received
    .flatMap((m) => (m.type === 'environment' && m.environment.id === id ? [m.environment] : []))
    .at(-1);
}

async function policyStops(t: TestControlPlane): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>(
    'GET',
    '/v1/audit?action=environment.stop',
  );
  return page.body.records.filter((record) => record.actor.id === 'policy');
}

for (const backend of testBackends()) {
  describe(`policy sweeper on ${backend.kind}`, () => {
    test('stops the idle and the over-lifetime environment, leaves the active one', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const now = Date.now();
        const idle = await runningSince(t, runner, 'idle', now - 40 * minuteMs);
        const active = await runningSince(t, runner, 'active', now - 40 * minuteMs);
        const old = await runningSince(t, runner, 'old', now - 300 * minuteMs);
        runner.send({
          type: 'activity',
          environments: [active.id, old.id].map((environmentId) => ({
            environmentId,
            lastActiveAt: new Date(now).toISOString(),
          })),
        });
        await activityStored(t, [active.id, old.id]);

        assert.equal(await sweepPolicies(t.cp.context, now + minuteMs), 0, 'no policy, no stop');
        const set = await t.request('PATCH', '/v1/org/policy', {
          body: { idleStopAfterMin: 30, maxLifetimeMin: 240 },
        });
        assert.equal(set.status, 200);

        assert.equal(await sweepPolicies(t.cp.context, now + minuteMs), 2);
        assert.equal(await desiredPhaseOf(t, idle.id), 'stopped');
        assert.equal(await desiredPhaseOf(t, old.id), 'stopped');
        assert.equal(await desiredPhaseOf(t, active.id), 'running');
        await runner.waitFor(() => lastPush(runner, idle.id)?.spec.desiredPhase === 'stopped');
        await runner.waitFor(() => lastPush(runner, old.id)?.spec.desiredPhase === 'stopped');
        assert.equal(lastPush(runner, idle.id)?.generation, 2);

        const records = await policyStops(t);
        assert.deepEqual(
          records.map((r) => [r.target?.id, r.details.reason, r.details.limitMin]).sort(),
          [
            [idle.id, 'idleStopAfterMin', 30],
            [old.id, 'maxLifetimeMin', 240],
          ].sort(),
        );
        for (const record of records) {
          assert.deepEqual(record.actor, { kind: 'system', id: 'policy' });
          assert.equal(record.details.desiredPhase, 'stopped');
        }

        assert.equal(await sweepPolicies(t.cp.context, now + 2 * minuteMs), 0, 'stopped once');
        assert.equal(await desiredPhaseOf(t, active.id), 'running');
        assert.equal(await sweepPolicies(t.cp.context, now + 31 * minuteMs), 1);
        assert.equal(await desiredPhaseOf(t, active.id), 'stopped', 'idle once time passed');
        assert.equal((await policyStops(t)).length, 3);
      } finally {
        await t.close();
      }
    });

    test('a started environment is not stopped for activity from before its stop', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const now = Date.now();
        await t.request('PATCH', '/v1/org/policy', { body: { idleStopAfterMin: 30 } });
        const environment = await runningSince(t, runner, 'restarted', now);
        await t.cp.context.db.execute('UPDATE environments SET last_active_at = ? WHERE id = ?', [
          now - 120 * minuteMs,
          environment.id,
        ]);
        assert.equal(await sweepPolicies(t.cp.context, now + minuteMs), 0);
        assert.equal(await sweepPolicies(t.cp.context, now + 31 * minuteMs), 1);
      } finally {
        await t.close();
      }
    });

    test('environments still being created are left alone, whatever their age', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t);
        const creating = await createEnvironment(t, { name: 'creating' });
        await t.request('PATCH', '/v1/org/policy', { body: { maxLifetimeMin: 1 } });
        assert.equal(await sweepPolicies(t.cp.context, Date.now() + 600 * minuteMs), 0);
        assert.equal(await desiredPhaseOf(t, creating.id), 'running');
      } finally {
        await t.close();
      }
    });
  });

  describe(`policy sweeper timer on ${backend.kind}`, () => {
    test('the server sweeps every policySweepIntervalMs', async () => {
      const t = await startTestControlPlane(backend, { policySweepIntervalMs: 100 });
      try {
        const { runner } = await connectedRunner(t);
        const environment = await runningSince(t, runner, 'swept', Date.now() - 10 * minuteMs);
        await t.request('PATCH', '/v1/org/policy', { body: { maxLifetimeMin: 5 } });
        await runner.waitFor(
          () => lastPush(runner, environment.id)?.spec.desiredPhase === 'stopped',
        );
        assert.equal((await policyStops(t)).length, 1);
      } finally {
        await t.close();
      }
    });
  });
}
