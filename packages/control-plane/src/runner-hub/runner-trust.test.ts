import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { fingerprint, type AuditRecord, type Runner, type ServerMessage } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

async function auditOf(t: TestControlPlane, action: string) {
  const answer = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return answer.body.records;
}

async function closeOf(runner: ProtocolRunner): Promise<number> {
  const socket = runner.socket;
  assert.ok(socket);
  if (socket.readyState === socket.CLOSED) throw new Error('the socket closed before the wait');
  const [code] = (await once(socket, 'close')) as [number];
  return code;
}

for (const backend of testBackends()) {
  describe(`runner trust on ${backend.kind}`, () => {
    test('a disabled runner is closed at once, refused on hello and gets no grants', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const closed = closeOf(runner);
        const disabled = await t.request<Runner>('POST', `/v1/runners/${runner.runnerId}/disable`);
        assert.equal(disabled.status, 200);
        assert.equal(disabled.body.state, 'disabled');
        assert.ok(disabled.body.disabledAt);
        assert.equal(await closed, 4006);
        const error = await runner.waitFor((m) => m.type === 'error');
        assert.equal(error.type === 'error' && error.code, 'runner_disabled');
        assert.match(JSON.stringify(error), /hangar runner enable/);

        await assert.rejects(runner.connect(), /closed 4006/);
        const grant = await t.request('POST', `/v1/environments/${environment.id}/access`, {
          body: { operations: ['exec'] },
        });
        assert.equal(grant.status, 503);
        assert.equal(grant.body.code, 'runner_unavailable');
        assert.match(String(grant.body.message), /is disabled/);

        const again = await t.request<Runner>('POST', `/v1/runners/${runner.runnerId}/disable`);
        assert.equal(again.status, 200, 'a repeated disable is a no-op');
        assert.equal((await auditOf(t, 'runner.disable')).length, 1);
        const denials = (await auditOf(t, 'runner.connect')).filter((r) => r.outcome === 'denied');
        assert.deepEqual(
          denials.map((r) => r.details.reason),
          ['runner disabled'],
        );

        const enabled = await t.request<Runner>('POST', `/v1/runners/${runner.runnerId}/enable`);
        assert.equal(enabled.body.state, 'offline');
        assert.equal(enabled.body.disabledAt, undefined);
        await runner.connect();
        const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.equal(listed.body.runners[0]?.state, 'online');
        assert.equal(
          listed.body.runners[0]?.publicKeyFingerprint,
          fingerprint(runner.keys.publicKey),
        );
        assert.ok(listed.body.runners[0]?.lastSeenAt);
        const after = await t.request('POST', `/v1/environments/${environment.id}/access`, {
          body: { operations: ['exec'] },
        });
        assert.equal(after.status, 201);
        assert.equal((await auditOf(t, 'runner.enable')).length, 1);
      } finally {
        await t.close();
      }
    });

    test('only owners, admins and runner-admins with runners:admin may disable', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const path = `/v1/runners/${runner.runnerId}/disable`;
        const orgId = t.owner.orgId;
        const member = await addUser(t.cp.context, { orgId, role: 'member' });
        const narrow = await addUser(t.cp.context, {
          orgId,
          role: 'admin',
          scopes: ['environments:read'],
        });
        const stranger = await addUser(t.cp.context, { role: 'owner' });
        const runnerAdmin = await addUser(t.cp.context, { orgId, role: 'runner-admin' });
        assert.equal((await t.request('POST', path, { token: member.token })).status, 403);
        assert.equal((await t.request('POST', path, { token: narrow.token })).status, 403);
        const foreign = await t.request('POST', path, { token: stranger.token });
        assert.equal(foreign.status, 404);
        const refusal = JSON.stringify({ ...foreign.body, requestId: undefined });
        assert.doesNotMatch(refusal, /r1/, 'the refusal does not name the runner');
        const unknown = await t.request('POST', '/v1/runners/run_aaaaaaaaaaaaaaaa/disable');
        assert.equal(unknown.status, 404);
        const listed = await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`);
        assert.equal(listed.body.state, 'online', 'no refused call changed anything');
        const ok = await t.request<Runner>('POST', path, { token: runnerAdmin.token });
        assert.equal(ok.status, 200);
        assert.equal(ok.body.state, 'disabled');
      } finally {
        await t.close();
      }
    });

    test('a requested key rotation: the new key is accepted, the old one refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const unasked = await runner.rotateKey();
        assert.equal(unasked.answer.type, 'error', 'a rotation nobody asked for is refused');
        assert.match(JSON.stringify(unasked.answer), /no key rotation was requested/);

        const asked = await t.request<Runner>('POST', `/v1/runners/${runner.runnerId}/rotate-key`);
        assert.equal(asked.status, 200, JSON.stringify(asked.body));
        assert.ok(asked.body.keyRotationRequestedAt);
        await runner.waitFor((m) => m.type === 'rotate-key-request');
        const forged = await runner.rotateKey({ proveWith: runner.keys.privateKey });
        assert.equal(forged.answer.type, 'error', 'a proof not made by the new key is refused');

        const oldFingerprint = fingerprint(runner.keys.publicKey);
        const { answer, oldKeys } = await runner.rotateKey();
        assert.equal(answer.type, 'key-rotated');
        const newFingerprint = fingerprint(runner.keys.publicKey);
        assert.equal(answer.type === 'key-rotated' && answer.publicKeyFingerprint, newFingerprint);
        const shown = await t.request<Runner>('GET', `/v1/runners/${runner.runnerId}`);
        assert.equal(shown.body.publicKeyFingerprint, newFingerprint);
        assert.equal(shown.body.keyRotationRequestedAt, undefined);
        const records = await auditOf(t, 'runner.key.rotate');
        assert.deepEqual(
          records.map((r) => [r.actor.kind, r.details.stage]),
          [
            ['user', 'requested'],
            ['runner', 'done'],
          ],
        );
        assert.equal(records[1]?.details.oldFingerprint, oldFingerprint);
        assert.equal(records[1]?.details.newFingerprint, newFingerprint);

        runner.close();
        await assert.rejects(runner.connect({ signWith: oldKeys.privateKey }), /closed 4003/);
        const welcome = await runner.connect();
        assert.equal(welcome.type, 'welcome');
        const replay = await runner.rotateKey();
        assert.equal(replay.answer.type, 'error', 'one request allows one rotation');
      } finally {
        await t.close();
      }
    });

    test('a rotation asked while the runner is away is sent on its next welcome', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const closed = closeOf(runner);
        runner.close();
        await closed;
        const pending = await t.request('POST', '/v1/runners', { body: { name: 'pending' } });
        const id = (pending.body as { runner: { id: string } }).runner.id;
        const early = await t.request('POST', `/v1/runners/${id}/rotate-key`);
        assert.equal(early.status, 409, 'a runner that never enrolled has no key to rotate');
        await t.request('POST', `/v1/runners/${runner.runnerId}/rotate-key`);
        await runner.connect();
        const request = await runner.waitFor<ServerMessage>((m) => m.type === 'rotate-key-request');
        assert.equal(request.type, 'rotate-key-request');
        const { answer } = await runner.rotateKey();
        assert.equal(answer.type, 'key-rotated');
      } finally {
        await t.close();
      }
    });
  });
}
