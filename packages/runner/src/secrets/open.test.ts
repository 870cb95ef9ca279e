import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HangarError, generateX25519, newId, type DesiredEnvironment } from '@hangar/api';
import { loadEncryptionKey, encryptionKeyPath } from './encryption-key.js';
import { openEnvironmentSecrets, secretUnreadableReason } from './open.js';
import { sealedSecret, testAuthor } from './testing.js';

const value = 'open-test-canary-91f0c2';
const runnerKey = generateX25519();
const runnerId = newId('run');
const orgId = newId('org');
const author = testAuthor();

function environment(secrets: DesiredEnvironment['secrets']): DesiredEnvironment {
  return {
    id: newId('env'),
    orgId,
    ownerId: author.userId,
    name: 'opening',
    generation: 1,
    spec: { class: 'small', desiredPhase: 'running' },
    ports: [],
    secrets,
  };
}

const sealed = (extra: Partial<Parameters<typeof sealedSecret>[0]> = {}) =>
  sealedSecret({
    orgId,
    runnerId,
    runnerPublicKey: runnerKey.publicKey,
    author,
    name: 'API_TOKEN',
    value,
    ...extra,
  });

function refusal(run: () => unknown): HangarError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof HangarError);
    return error;
  }
  assert.fail('expected the secret not to open');
}

test('a secret sealed with sealSecret to this runner opens with its metadata', () => {
  const secret = sealed({
    scope: 'project',
    scopeId: 'web',
    delivery: 'file',
    target: '/run/secrets/t',
  });
  const [opened, ...rest] = openEnvironmentSecrets({
    desired: environment([secret]),
    runnerId,
    key: runnerKey,
  });
  assert.equal(rest.length, 0);
  assert.equal(opened?.value.toString(), value);
  assert.equal(opened?.name, 'API_TOKEN');
  assert.equal(opened?.target, '/run/secrets/t');
  assert.equal(opened?.scopeId, 'web');
});

test('a ciphertext moved to another name, version, target or runner fails, naming no value', () => {
  const secret = sealed();
  const moved = [
    { desired: environment([{ ...secret, name: 'OTHER_NAME' }]), runnerId },
    { desired: environment([{ ...secret, version: 2 }]), runnerId },
    { desired: environment([{ ...secret, target: 'PATH' }]), runnerId },
    { desired: environment([{ ...secret, delivery: 'file' }]), runnerId },
    { desired: environment([{ ...secret, scope: 'user' }]), runnerId },
    { desired: { ...environment([secret]), orgId: newId('org') }, runnerId },
    { desired: environment([secret]), runnerId: newId('run') },
  ];
  for (const input of moved) {
    const error = refusal(() => openEnvironmentSecrets({ ...input, key: runnerKey }));
    assert.equal(error.details?.['reason'], secretUnreadableReason);
    assert.match(error.message, /the secret org\/|the secret user\//);
    assert.match(error.message, /set it again with hangar secret set/);
    assert.ok(!JSON.stringify({ m: error.message, d: error.details }).includes(value));
  }
});

test('another runner key, a forged author and a garbled envelope fail as unreadable', () => {
  const secret = sealed();
  const other = testAuthor();
  const cases = [
    () =>
      openEnvironmentSecrets({ desired: environment([secret]), runnerId, key: generateX25519() }),
    () =>
      openEnvironmentSecrets({
        desired: environment([{ ...secret, authorVerifyKey: other.keys.publicKey }]),
        runnerId,
        key: runnerKey,
      }),
    () =>
      openEnvironmentSecrets({
        desired: environment([{ ...secret, envelope: 'bm90IGFuIGVudmVsb3Bl' }]),
        runnerId,
        key: runnerKey,
      }),
    () =>
      openEnvironmentSecrets({
        desired: environment([{ ...secret, authorVerifyKey: 'short' }]),
        runnerId,
        key: runnerKey,
      }),
  ];
  for (const run of cases) {
    const error = refusal(run);
    assert.equal(error.details?.['reason'], secretUnreadableReason);
    assert.ok(error.message.includes('API_TOKEN'));
    assert.ok(!error.message.includes(value));
  }
});

test('the encryption key is made once, kept at mode 0600, and read back unchanged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-enc-key-'));
  try {
    const first = await loadEncryptionKey(dir);
    const again = await loadEncryptionKey(dir);
    assert.deepEqual(again, first);
    assert.equal(first.publicKey.length, 43);
    assert.equal((await stat(encryptionKeyPath(dir))).mode & 0o777, 0o600);
    const text = await readFile(encryptionKeyPath(dir), 'utf8');
    assert.deepEqual(Object.keys(JSON.parse(text) as object).sort(), ['privateKey', 'publicKey']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
