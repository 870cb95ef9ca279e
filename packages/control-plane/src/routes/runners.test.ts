import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateEd25519, type Runner } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, runningEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

for (const backend of testBackends()) {
  describe(`runners on ${backend.kind}`, () => {
    test('an enrollment token works once; a second use is refused and audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { enrollmentToken, runner } = await connectedRunner(t);
        const second = new ProtocolRunner(t.url);
        const reuse = await second.enroll(enrollmentToken);
        assert.equal(reuse.status, 401);
        assert.equal(((await reuse.json()) as { code: string }).code, 'enrollment_token_invalid');
        const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.equal(listed.body.runners[0]?.state, 'online');
        assert.match(listed.body.runners[0]?.publicKeyFingerprint ?? '', /^SHA256:/);
        const rows = await t.cp.context.db.query<{ public_key: string }>(
          'SELECT public_key FROM runners',
        );
        assert.equal(rows[0]?.public_key, runner.keys.publicKey, 'the first key stays');
        const audit = await t.request<{ records: { outcome: string }[] }>(
          'GET',
          '/v1/audit?action=runner.enroll',
        );
        assert.deepEqual(
          audit.body.records.map((r) => r.outcome),
          ['success', 'denied'],
        );
      } finally {
        await t.close();
      }
    });

    test('an expired or garbled enrollment token is refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
          body: { name: 'late' },
        });
        await t.cp.context.db.execute('UPDATE enrollment_tokens SET expires_at = ?', [
          Date.now() - 1,
        ]);
        const runner = new ProtocolRunner(t.url);
        assert.equal((await runner.enroll(made.body.enrollmentToken)).status, 401);
        assert.equal((await runner.enroll('hge_nonsense')).status, 401);
        const badKey = await fetch(`${t.url}/v1/runners/enroll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ enrollmentToken: made.body.enrollmentToken, publicKey: 'AAAA' }),
        });
        assert.equal(badKey.status, 400);
        const extra = await fetch(`${t.url}/v1/runners/enroll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ enrollmentToken: 'x', publicKey: 'y', admin: true }),
        });
        assert.equal(extra.status, 400);
      } finally {
        await t.close();
      }
    });

    test('a runner that signs with another key is refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
          body: { name: 'impostor' },
        });
        const runner = new ProtocolRunner(t.url);
        await runner.enroll(made.body.enrollmentToken);
        await assert.rejects(
          runner.connect({ signWith: generateEd25519().privateKey }),
          /closed 4003/,
        );
        const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.equal(listed.body.runners[0]?.state, 'offline');
        const audit = await t.request<{ records: { outcome: string }[] }>(
          'GET',
          '/v1/audit?action=runner.connect',
        );
        assert.deepEqual(
          audit.body.records.map((r) => r.outcome),
          ['denied'],
        );
      } finally {
        await t.close();
      }
    });

    test('a runner that misses heartbeats goes offline, with its last-seen time', async () => {
      const t = await startTestControlPlane(backend, { heartbeatIntervalMs: 200 });
      try {
        const { runner } = await connectedRunner(t);
        const online = await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`);
        assert.equal(online.body.state, 'online');
        let state = 'online';
        for (let i = 0; i < 50 && state === 'online'; i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          state = (await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`)).body.state;
        }
        assert.equal(state, 'offline');
        const offline = await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`);
        assert.ok(offline.body.lastSeenAt);
      } finally {
        await t.close();
      }
    });

    test('runner managers see how many environments each runner holds; members do not', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        await connectedRunner(t, 'r2');
        const counted = async (token?: string) => {
          const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners', { token });
          const one = await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`, { token });
          const byName = listed.body.runners.map((r) => [r.name, r.environmentCount]);
          return { byName, one: one.body.environmentCount };
        };
        assert.deepEqual(await counted(), {
          byName: [
            ['r1', 1],
            ['r2', 0],
          ],
          one: 1,
        });
        const orgId = t.owner.orgId;
        const runnerAdmin = await addUser(t.cp.context, { orgId, role: 'runner-admin' });
        assert.deepEqual(await counted(runnerAdmin.token), {
          byName: [
            ['r1', 1],
            ['r2', 0],
          ],
          one: 1,
        });
        const member = await addUser(t.cp.context, { orgId, role: 'member' });
        assert.deepEqual(await counted(member.token), {
          byName: [
            ['r1', undefined],
            ['r2', undefined],
          ],
          one: undefined,
        });

        await t.request('DELETE', `/v1/environments/${environment.id}`);
        runner.reportStatus(environment.id, { phase: 'deleted' }, 2);
        await waitForPhase(t, environment.id, 'deleted');
        assert.deepEqual((await counted()).byName, [
          ['r1', 0],
          ['r2', 0],
        ]);
      } finally {
        await t.close();
      }
    });

    test('malformed runner messages are refused without harm', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        runner.send({
          type: 'status',
          environmentId: 'env_aaaaaaaaaaaaaaaa',
          status: { phase: 'bogus' },
        });
        runner.send({ type: 'audit', records: [{ localSeq: 1, action: 'org.bootstrap' }] });
        runner.send({ type: 'no-such-message' });
        const errors = await runner.waitFor((m) => m.type === 'error');
        assert.equal(errors.type, 'error');
        const health = await t.request('GET', '/v1/health', { token: null });
        assert.equal(health.status, 200);
        const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.equal(listed.body.runners[0]?.state, 'online');
      } finally {
        await t.close();
      }
    });
  });
}
