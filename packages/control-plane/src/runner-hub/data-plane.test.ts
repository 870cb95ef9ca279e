import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  publicKeyObject,
  verifyAccessToken,
  type AuditRecord,
  type Environment,
  type Runner,
  type ServerMessage,
} from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { keyMaker, type GeneratedKey } from '../testing/ssh-keygen.js';
import { addUser } from '../testing/users.js';
import { maxOutstandingSshAuthorizations } from './hub.js';

let keys: Awaited<ReturnType<typeof keyMaker>>;
let ownerKey: GeneratedKey;
let memberKey: GeneratedKey;
let strangerKey: GeneratedKey;
let hostKey: GeneratedKey;

before(async () => {
  keys = await keyMaker();
  ownerKey = await keys.make('ed25519');
  memberKey = await keys.make('ecdsa', 256);
  strangerKey = await keys.make('ed25519');
  hostKey = await keys.make('ed25519');
});

after(() => keys.remove());

type Authorization = ServerMessage & { type: 'ssh-authorization' };

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const exported = await t.cp.context.audit.export(t.owner.orgId);
  return exported.records.filter((record) => record.action === action);
}

/** Waits until the records of `action` number `count`: audits may trail the answer. */
async function recordsOf(t: TestControlPlane, action: string, count: number) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const records = await auditOf(t, action);
    if (records.length >= count) return records;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`fewer than ${count} ${action} records`);
}

async function addKey(t: TestControlPlane, key: GeneratedKey, token?: string) {
  const response = await t.request('POST', '/v1/ssh-keys', {
    body: { publicKey: key.line },
    ...(token ? { token } : {}),
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
}

for (const backend of testBackends()) {
  describe(`runner data-plane messages on ${backend.kind}`, () => {
    test('a registered key opens its owner environment by id or name, with a grant', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t, { name: 'web' });
        await addKey(t, ownerKey);
        const key = publicKeyObject(t.cp.context.signingKey.publicKeyRaw);
        for (const username of [environment.id, 'web']) {
          const answer = await runner.authorizeSsh({ username, publicKey: ownerKey.blob });
          assert.ok(answer.ok, JSON.stringify(answer));
          assert.equal(answer.environmentId, environment.id);
          const checked = verifyAccessToken(answer.token, key, { audience: runner.runnerId });
          assert.ok(checked.ok);
          assert.deepEqual(checked.claims.ops, ['ssh']);
          assert.equal(checked.claims.env, environment.id);
          assert.deepEqual(checked.claims.act, { kind: 'user', id: t.owner.userId });
        }
        const records = await recordsOf(t, 'environment.access', 2);
        assert.equal(records[0]?.details.method, 'ssh');
        assert.equal(records[0]?.details.keyFingerprint, ownerKey.fingerprint);
        assert.equal(records[0]?.sourceAddress, '192.0.2.7');
        assert.equal(records[0]?.target?.id, environment.id);
        assert.doesNotMatch(JSON.stringify(records), /hat1\./);
      } finally {
        await t.close();
      }
    });

    test('every refusal reads the same to the runner and is audited with its reason', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t, 'r1');
        const mine = await createEnvironment(t, { name: 'mine' });
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const theirs = await t.request<Environment>('POST', '/v1/environments', {
          token: member.token,
          body: { name: 'theirs' },
        });
        const gone = await createEnvironment(t, { name: 'gone' });
        await t.request('DELETE', `/v1/environments/${gone.id}`);
        runner.reportStatus(gone.id, { phase: 'deleted' }, 2);
        await waitForPhase(t, gone.id, 'deleted');
        const { runner: other } = await connectedRunner(t, 'r2');
        const elsewhere = await createEnvironment(t, {
          name: 'elsewhere',
          runnerId: other.runnerId,
        });
        await addKey(t, ownerKey);
        await addKey(t, memberKey, member.token);

        const cases: [string, string, string][] = [
          [mine.id, strangerKey.blob, 'the key is not registered in this organization'],
          [theirs.body.id, ownerKey.blob, "the environment is not the key owner's"],
          ['theirs', ownerKey.blob, 'no such environment'],
          [gone.id, ownerKey.blob, 'the environment is deleted'],
          ['gone', ownerKey.blob, 'no such environment'],
          [elsewhere.id, ownerKey.blob, 'the environment is on another runner'],
          ['env_doesnotexist0000', ownerKey.blob, 'no such environment'],
          ['mine', 'AAAA', 'the key is not a valid key'],
          ['Bad\u0000Name', ownerKey.blob, 'no such environment'],
        ];
        const messages = new Set<string>();
        for (const [username, publicKey] of cases) {
          const answer = await runner.authorizeSsh({ username, publicKey });
          assert.equal(answer.ok, false, username);
          if (!answer.ok) {
            assert.equal(answer.code, 'forbidden');
            messages.add(answer.message);
          }
        }
        assert.equal(messages.size, 1, 'no answer tells one refusal from another');
        const denied = await recordsOf(t, 'access.denied', cases.length);
        const ssh = denied.filter((record) => record.details.method === 'ssh');
        assert.deepEqual(
          ssh.map((record) => record.details.reason),
          cases.map(([, , reason]) => reason),
        );
        assert.equal(ssh[0]?.actor.kind, 'system', 'an unknown key has no user behind it');
        assert.equal(ssh[1]?.actor.id, t.owner.userId);
        assert.equal(ssh[8]?.details.username, 'Bad\\u0000Name');

        const allowed = await runner.authorizeSsh({
          username: 'theirs',
          publicKey: memberKey.blob,
        });
        assert.ok(allowed.ok, 'the member opens their own');
      } finally {
        await t.close();
      }
    });

    test('a runner cannot flood the control plane with SSH logins', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t);
        await addKey(t, ownerKey);
        const burst = maxOutstandingSshAuthorizations * 3;
        const answers = await Promise.all(
          Array.from({ length: burst }, () =>
            runner.authorizeSsh({ username: environment.id, publicKey: ownerKey.blob }),
          ),
        );
        const busy = answers.filter(
          (answer: Authorization) => !answer.ok && answer.code === 'runner_unavailable',
        );
        const granted = answers.filter((answer) => answer.ok);
        assert.ok(busy.length > 0, 'some are refused at once');
        assert.ok(granted.length >= maxOutstandingSshAuthorizations, `${granted.length} granted`);
        assert.equal(busy.length + granted.length, burst);
        const later = await runner.authorizeSsh({
          username: environment.id,
          publicKey: ownerKey.blob,
        });
        assert.ok(later.ok, 'the limit is on what waits, not a ban');
      } finally {
        await t.close();
      }
    });

    test('activity moves last-active forward only, for the runner own environments only', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t, 'r1');
        const environment = await createEnvironment(t);
        const { runner: other } = await connectedRunner(t, 'r2');
        const foreign = await createEnvironment(t, { runnerId: other.runnerId });
        const get = async (id: string) =>
          (await t.request<Environment>('GET', `/v1/environments/${id}`)).body;
        assert.equal((await get(environment.id)).lastActiveAt, undefined);

        const first = new Date(Date.now() - 60_000).toISOString();
        const settled = async (expected: string | undefined) => {
          for (let attempt = 0; attempt < 200; attempt += 1) {
            if ((await get(environment.id)).lastActiveAt === expected) return;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assert.fail(`lastActiveAt never became ${expected}`);
        };
        runner.send({
          type: 'activity',
          environments: [
            { environmentId: environment.id, lastActiveAt: first },
            { environmentId: foreign.id, lastActiveAt: first },
          ],
        });
        await settled(first);
        const older = new Date(Date.now() - 120_000).toISOString();
        runner.send({
          type: 'activity',
          environments: [{ environmentId: environment.id, lastActiveAt: older }],
        });
        const future = new Date(Date.now() + 86_400_000).toISOString();
        runner.send({
          type: 'activity',
          environments: [{ environmentId: environment.id, lastActiveAt: future }],
        });
        runner.send({ type: 'heartbeat' });
        for (let attempt = 0; attempt < 200; attempt += 1) {
          const at = (await get(environment.id)).lastActiveAt;
          if (at !== first) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const now = Date.parse((await get(environment.id)).lastActiveAt ?? '');
        assert.ok(now > Date.parse(first), 'moved forward');
        assert.ok(now <= Date.now(), 'a time in the future counts as now');
        assert.equal((await get(foreign.id)).lastActiveAt, undefined, 'not its runner');
        const before = await get(environment.id);
        assert.equal(before.statusVersion, 1, 'activity is not a status change');

        runner.send({ type: 'activity', environments: [] });
        const error = await runner.waitFor((m) => m.type === 'error');
        assert.equal(error.type === 'error' && error.code, 'invalid_request', 'an empty batch');
      } finally {
        await t.close();
      }
    });

    test('a runner publishes its SSH gateway; clients read it with their grant', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const created = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
          body: { name: 'ssh-runner' },
        });
        const runner = new ProtocolRunner(t.url);
        await runner.enroll(created.body.enrollmentToken);
        await runner.connect({
          ssh: { address: '127.0.0.1:2222', hostKeys: [`${hostKey.line}`] },
        });
        const listed = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.deepEqual(listed.body.runners[0]?.ssh, {
          address: '127.0.0.1:2222',
          hostKeys: [`ssh-ed25519 ${hostKey.blob}`],
        });
        const environment = await createEnvironment(t);
        runner.reportStatus(environment.id, { phase: 'running' }, 1);
        await waitForPhase(t, environment.id, 'running');
        const access = await t.request<{ ssh?: { address: string; username: string } }>(
          'POST',
          `/v1/environments/${environment.id}/access`,
          { body: { operations: ['ssh'] } },
        );
        assert.equal(access.status, 201);
        assert.deepEqual(access.body.ssh, {
          address: '127.0.0.1:2222',
          hostKeys: [`ssh-ed25519 ${hostKey.blob}`],
          username: environment.id,
        });

        runner.close();
        await assert.rejects(
          runner.connect({ ssh: { address: '0.0.0.0:2222', hostKeys: [hostKey.line] } }),
          /closed 4003/,
        );
        const refusal = runner.received.findLast((m) => m.type === 'error');
        assert.match(refusal?.type === 'error' ? refusal.message : '', /ssh\.address/);
        await assert.rejects(
          runner.connect({ ssh: { address: '127.0.0.1:2222', hostKeys: ['ssh-ed25519 AAAA'] } }),
          /closed 4003/,
        );
        const failures = (await auditOf(t, 'runner.connect')).filter(
          (record) => record.outcome === 'failure',
        );
        assert.equal(failures.length, 2);

        await runner.connect();
        const plain = await t.request<{ runners: Runner[] }>('GET', '/v1/runners');
        assert.equal(plain.body.runners[0]?.ssh, undefined, 'no SSH gateway any more');
      } finally {
        await t.close();
      }
    });

    test('a revoke for a runner that is away reaches it on its next connection', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        await createEnvironment(t);
        await addKey(t, ownerKey);
        const listed = await t.request<{ sshKeys: { id: string }[] }>('GET', '/v1/ssh-keys');
        runner.close();
        for (
          let attempt = 0;
          attempt < 200 && t.cp.context.runners.isConnected(runner.runnerId);
          attempt += 1
        ) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await t.request('DELETE', `/v1/ssh-keys/${listed.body.sshKeys[0]?.id ?? ''}`);
        assert.equal(runner.received.filter((m) => m.type === 'revoke').length, 0);
        await runner.connect();
        const revoke = await runner.waitFor((m) => m.type === 'revoke');
        assert.equal(revoke.type === 'revoke' && revoke.actorId, t.owner.userId);
        const welcome = runner.received.findLastIndex((m) => m.type === 'welcome');
        assert.ok(runner.received.indexOf(revoke) > welcome, 'after the welcome');
      } finally {
        await t.close();
      }
    });

    test('deleting an environment tells its runner to end its sessions', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t);
        await t.request('DELETE', `/v1/environments/${environment.id}`);
        const revoke = await runner.waitFor((m) => m.type === 'revoke');
        assert.deepEqual(revoke, {
          type: 'revoke',
          environmentId: environment.id,
          reason: 'the environment was deleted',
        });
      } finally {
        await t.close();
      }
    });
  });
}
