import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  HangarError,
  generateX25519,
  newId,
  type DesiredEnvironment,
  type DesiredSecret,
} from '@hangar/api';
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
  const {
    opened: [opened, ...rest],
    refused,
  } = openEnvironmentSecrets({
    desired: { ...environment([secret]), spec: { ...environment([]).spec, project: 'web' } },
    runnerId,
    key: runnerKey,
  });
  assert.equal(rest.length, 0);
  assert.deepEqual(refused, []);
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
    { desired: environment([{ ...secret, target: 'OTHER_VAR' }]), runnerId },
    {
      desired: environment([{ ...secret, delivery: 'file', target: '/run/secrets/API_TOKEN' }]),
      runnerId,
    },
    { desired: environment([{ ...secret, scope: 'user', scopeId: author.userId }]), runnerId },
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

test("another user's or project's secret is refused unopened, naming it and why", () => {
  const victim = testAuthor();
  const theirs = sealed({ author: victim, name: 'VICTIM_TOKEN', scope: 'user' });
  const payments = sealed({ name: 'PAY_KEY', scope: 'project', scopeId: 'payments' });
  const scoped = sealed({ name: 'ORG_WITH_ID', scopeId: 'payments' });
  const desired = environment([theirs, payments, scoped, sealed()]);
  const play = { ...desired, spec: { ...desired.spec, project: 'sandbox-play' } };
  for (const input of [desired, play]) {
    const { opened, refused } = openEnvironmentSecrets({
      desired: input,
      runnerId,
      key: runnerKey,
    });
    assert.deepEqual(
      opened.map((item) => item.name),
      ['API_TOKEN'],
    );
    assert.deepEqual(
      refused.map((item) => item.secret.name),
      ['VICTIM_TOKEN', 'PAY_KEY', 'ORG_WITH_ID'],
    );
    assert.match(refused[0]?.why ?? '', /another user's secret/);
    assert.match(
      refused[1]?.why ?? '',
      /for project payments, and the environment is (of no|of project sandbox-play)/,
    );
  }
  const mine = sealed({ name: 'MINE', scope: 'user' });
  const own = openEnvironmentSecrets({ desired: environment([mine]), runnerId, key: runnerKey });
  assert.equal(own.opened[0]?.value.toString(), value);
});

test('a target the rules refuse, or a NUL in a variable, is refused, not delivered', () => {
  const targets: Array<[DesiredSecret['delivery'], string]> = [
    ['env', 'LD_PRELOAD'],
    ['env', 'path'],
    ['env', 'HANGAR_ENVD_TOKEN'],
    ['env', 'BASH_ENV'],
    ['env', 'GIT_CONFIG_COUNT'],
    ['file', '/home/dev/.bashrc'],
    ['file', '/etc/passwd'],
    ['file', '/run/hangar/git-credentials/0'],
    ['git', 'host/with/path'],
  ];
  const secrets = targets.map(([delivery, target], index) =>
    sealed({ name: `S_${index}`, delivery, target }),
  );
  const nul = sealed({ name: 'NUL_VALUE', value: Buffer.from('a\0b-long-enough') });
  const fine = sealed({ name: 'FILE_OK', delivery: 'file', target: '/run/secrets/ok' });
  const { opened, refused } = openEnvironmentSecrets({
    desired: environment([...secrets, nul, fine]),
    runnerId,
    key: runnerKey,
  });
  assert.deepEqual(
    opened.map((item) => item.name),
    ['FILE_OK'],
  );
  assert.equal(refused.length, targets.length + 1);
  for (const [index, [delivery]] of targets.entries()) {
    assert.match(refused[index]?.why ?? '', new RegExp(`^its ${delivery} target `));
  }
  assert.match(refused.at(-1)?.why ?? '', /NUL byte/);
  assert.ok(!JSON.stringify(refused).includes(value));
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
