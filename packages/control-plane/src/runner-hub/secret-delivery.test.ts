import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  generateX25519,
  openSecret,
  publicKeyObject,
  type DesiredEnvironment,
  type DesiredSecret,
  type ServerMessage,
} from '@hangar/api';
import { createLogger } from '../logger.js';
import { testBackends } from '../storage/testing.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { putSecret, testAuthor } from '../testing/secrets.js';
import { addUser } from '../testing/users.js';

/** What the runner does: rebuild the binding from the metadata, open with its own key. */
function open(runner: ProtocolRunner, environment: DesiredEnvironment, secret: DesiredSecret) {
  const opened = runner.open(environment, secret);
  assert.ok(opened.ok, `${secret.name} does not open: ${opened.ok ? '' : opened.reason}`);
  return opened.value.toString('utf8');
}

function names(environment: DesiredEnvironment): string {
  return (environment.secrets ?? []).map((secret) => `${secret.scope}:${secret.name}`).join(' ');
}

/**
 * The first state of `id` pushed after the runner's first `from` messages whose secrets read
 * `expected` (scope:name, in order).
 */
async function pushed(runner: ProtocolRunner, id: string, expected: string, from = 0) {
  const message = await runner.waitFor<ServerMessage & { type: 'environment' }>(
    (item) =>
      item.type === 'environment' &&
      item.environment.id === id &&
      names(item.environment) === expected &&
      runner.received.indexOf(item) >= from,
  );
  return message.environment;
}

async function withLog(backend: Parameters<typeof startTestControlPlane>[0]) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line) => lines.push(line) },
  });
  const t = await startTestControlPlane(backend, {}, { logger });
  return { t, lines };
}

async function webProject(t: TestControlPlane) {
  const patched = await t.request('PATCH', '/v1/org/policy', {
    body: {
      projects: [{ name: 'web', repositoryPatterns: ['https://git.example.com/**'], runners: [] }],
    },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
}

for (const backend of testBackends()) {
  describe(`secret delivery on ${backend.kind}`, () => {
    test('an environment gets org, project and owner secrets, sealed to its runner', async () => {
      const { t } = await withLog(backend);
      try {
        const { runner } = await connectedRunner(t, 'one');
        await webProject(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const plain = await createEnvironment(t);
        const web = await createEnvironment(t, {
          project: 'web',
          repository: { url: 'https://git.example.com/team/web.git' },
        });
        const theirs = await t.request<{ id: string }>('POST', '/v1/environments', {
          token: member.token,
          body: {},
        });
        assert.equal(theirs.status, 201, JSON.stringify(theirs.body));

        const owner = await testAuthor(t);
        const author = await testAuthor(t, member);
        await putSecret(t, owner, { name: 'ORG', value: 'org value', scope: 'org' });
        await putSecret(t, owner, { name: 'MINE', value: 'owner value' });
        await putSecret(t, owner, {
          name: 'WEB',
          value: 'web value',
          scope: 'project',
          project: 'web',
          delivery: 'file',
          target: '/run/secrets/webrc',
        });
        await putSecret(t, author, {
          name: 'THEIRS',
          value: 'member value',
          delivery: 'git',
          target: 'git.example.com',
        });

        const plainState = await pushed(runner, plain.id, 'org:ORG user:MINE');
        const webState = await pushed(runner, web.id, 'org:ORG project:WEB user:MINE');
        const theirState = await pushed(runner, theirs.body.id, 'org:ORG user:THEIRS');
        assert.deepEqual(
          plainState.secrets?.map((secret) => open(runner, plainState, secret)),
          ['org value', 'owner value'],
        );
        const webFile = webState.secrets?.find((secret) => secret.name === 'WEB');
        assert.equal(webFile?.delivery, 'file');
        assert.equal(webFile?.target, '/run/secrets/webrc');
        assert.equal(webFile?.scopeId, 'web');
        assert.equal(webFile?.authorVerifyKey, owner.keys.publicKey);
        assert.equal(webFile && open(runner, webState, webFile), 'web value');
        const git = theirState.secrets?.find((secret) => secret.name === 'THEIRS');
        assert.equal(git && open(runner, theirState, git), 'member value');
        assert.equal(git?.authorId, member.userId);

        const moved = webFile && { ...webFile, name: 'ORG' };
        const refused =
          moved &&
          openSecret({
            envelope: moved.envelope,
            binding: {
              orgId: webState.orgId,
              scope: moved.scope,
              scopeId: moved.scopeId,
              name: moved.name,
              version: moved.version,
              delivery: moved.delivery,
              target: moved.target,
              runnerId: runner.runnerId,
              authorId: moved.authorId,
            },
            runnerPrivateKey: runner.encryption.privateKey,
            runnerPublicKey: runner.encryption.publicKey,
            authorVerifyKey: publicKeyObject(moved.authorVerifyKey),
          });
        assert.equal(refused?.ok, false, 'a ciphertext moved to another name does not open');

        runner.socket?.close();
        const again = await runner.connect();
        assert.equal(again.type, 'welcome');
        const welcomed = again.type === 'welcome' ? again.environments : [];
        const reconnected = welcomed.find((item) => item.id === web.id);
        assert.equal(reconnected && names(reconnected), 'org:ORG project:WEB user:MINE');
      } finally {
        await t.close();
      }
    });

    test('hello encryption keys are stored and replaced; a bad one is refused', async () => {
      const { t } = await withLog(backend);
      try {
        const { runner } = await connectedRunner(t, 'one');
        const stored = async () =>
          (
            await t.cp.context.db.query<{ encryption_key: string | null }>(
              'SELECT encryption_key FROM runners WHERE id = ?',
              [runner.runnerId],
            )
          )[0]?.encryption_key;
        assert.equal(await stored(), runner.encryption.publicKey);

        runner.socket?.close();
        runner.encryption = generateX25519();
        assert.equal((await runner.connect()).type, 'welcome');
        assert.equal(await stored(), runner.encryption.publicKey, 'a rotated key is kept');
        runner.socket?.close();
        assert.equal((await runner.connect({ encryptionKey: null })).type, 'welcome');
        assert.equal(await stored(), runner.encryption.publicKey, 'no key leaves the stored one');
        runner.socket?.close();

        await assert.rejects(runner.connect({ encryptionKey: '!'.repeat(43) }), /closed 4003/);
        assert.equal(await stored(), runner.encryption.publicKey);
        const audit = await t.cp.context.audit.export(t.owner.orgId);
        const refused = audit.records.filter(
          (record) => record.action === 'runner.connect' && record.outcome === 'failure',
        );
        assert.match(String(refused[0]?.details.reason), /encryption key/);
      } finally {
        await t.close();
      }
    });

    test('a revoked key or a missing ciphertext delivers nothing, logged by id', async () => {
      const { t, lines } = await withLog(backend);
      try {
        const { runner } = await connectedRunner(t, 'one');
        const owner = await testAuthor(t);
        const set = await putSecret(t, owner, { name: 'LATE', value: 'value-for-one-runner' });
        const { runner: later } = await connectedRunner(t, 'two');
        const onLater = await createEnvironment(t, { runnerId: later.runnerId });
        const laterState = await pushed(later, onLater.id, '');
        assert.deepEqual(laterState.secrets, []);
        const skipped = lines
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find((line) => line.secretId === set.body.id && line.runnerId === later.runnerId);
        assert.ok(skipped, 'the skip is logged with the secret id and runner id');
        assert.ok(!JSON.stringify(skipped).includes('envelope'));

        const onFirst = await createEnvironment(t, { runnerId: runner.runnerId });
        await pushed(runner, onFirst.id, 'user:LATE');
        const beforeRevoke = runner.received.length;
        await t.request('DELETE', `/v1/signing-keys/${owner.signingKeyId}`);
        await pushed(runner, onFirst.id, '', beforeRevoke);
        assert.ok(
          lines.some(
            (line) => line.includes('signing key is revoked') && line.includes(String(set.body.id)),
          ),
        );

        const deleted = await putSecret(t, await testAuthor(t), { name: 'BRIEF', value: 'x' });
        await pushed(runner, onFirst.id, 'user:BRIEF');
        const beforeDelete = runner.received.length;
        await t.request('DELETE', `/v1/secrets/${String(deleted.body.id)}`);
        await pushed(runner, onFirst.id, '', beforeDelete);
      } finally {
        await t.close();
      }
    });
  });
}
