import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import {
  HangarError,
  generateX25519,
  newId,
  type DesiredEnvironment,
  type DesiredSecret,
} from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { SandboxSpec } from '../providers/provider.js';
import {
  SecretDelivery,
  secretsConditionAfter,
  secretsDeliveredCondition,
  secretUndeliverableReason,
} from './delivery.js';
import type { OpenedSecret } from './open.js';
import { SecretStore } from './store.js';
import { sealedSecret, testAuthor } from './testing.js';
import { SecretVersions, secretVersionsPath } from './versions.js';

const runnerKey = generateX25519();
const runnerId = newId('run');
const orgId = newId('org');
const owner = testAuthor();
const stranger = testAuthor();

function environment(secrets: DesiredSecret[]): DesiredEnvironment {
  return {
    id: newId('env'),
    orgId,
    ownerId: owner.userId,
    name: 'refusing',
    generation: 1,
    spec: { class: 'small', desiredPhase: 'running' },
    ports: [],
    secrets,
  };
}

const sealed = (extra: Partial<Parameters<typeof sealedSecret>[0]> & { name: string }) =>
  sealedSecret({
    orgId,
    runnerId,
    runnerPublicKey: runnerKey.publicKey,
    author: owner,
    value: `${extra.name.toLowerCase()}-canary-value`,
    ...extra,
  });

function delivery(versions: SecretVersions) {
  const records: AuditDraft[] = [];
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const store = new SecretStore();
  const secrets = new SecretDelivery({
    runnerId,
    key: runnerKey,
    store,
    versions,
    memory: undefined,
    audit: {
      append: (draft) => {
        records.push(draft);
        return Promise.resolve(draft);
      },
    },
    logger: pino({ level: 'debug' }, sink),
  });
  return { secrets, store, records, log: () => lines.join('') };
}

test('refused secrets are not delivered; each is audited denied, logged and named', async () => {
  const { secrets, store, records, log } = delivery(SecretVersions.inMemory());
  const desired = environment([
    sealed({ name: 'GOOD' }),
    sealed({ name: 'VICTIM', author: stranger, scope: 'user' }),
    sealed({ name: 'PRELOAD', target: 'LD_PRELOAD' }),
    sealed({ name: 'RC', delivery: 'file', target: '/home/dev/.bashrc' }),
    sealed({ name: 'NUL', value: Buffer.from('nul-\0-inside-value') }),
  ]);
  const condition = await secrets.open(desired);
  assert.deepEqual(Object.keys(store.envOf(desired.id)), ['GOOD']);
  assert.deepEqual(
    records.map((record) => [record.outcome, record.details['secrets']]),
    [
      ['denied', 'user/VICTIM@v1'],
      ['denied', 'org/PRELOAD@v1'],
      ['denied', 'org/RC@v1'],
      ['denied', 'org/NUL@v1'],
      ['success', 'org/GOOD@v1'],
    ],
  );
  assert.equal(records[0]?.details['reason'], secretUndeliverableReason);
  assert.match(String(records[0]?.details['why']), /another user's secret/);
  assert.equal(condition?.type, secretsDeliveredCondition);
  assert.equal(condition?.status, 'false');
  assert.equal(condition?.reason, secretUndeliverableReason);
  for (const name of ['VICTIM', 'PRELOAD', 'RC', 'NUL']) {
    assert.match(condition?.message ?? '', new RegExp(`org/${name}|user/${name}`));
    assert.match(log(), new RegExp(`"secret":"(org|user)/${name}@v1"`));
  }
  const everything = JSON.stringify({ records, condition }) + log();
  for (const value of ['victim-canary-value', 'preload-canary-value', 'rc-canary-value']) {
    assert.ok(!everything.includes(value), value);
  }
  const cleared = secretsConditionAfter(undefined, condition ? [condition] : []);
  assert.equal(cleared[0]?.status, 'true');
  assert.deepEqual(secretsConditionAfter(undefined, []), []);
});

test('a version older than one opened is refused, also after a runner restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-versions-'));
  try {
    const first = delivery(await SecretVersions.open(dir));
    const rotated = environment([sealed({ name: 'ROTATED', version: 2 })]);
    assert.equal(await first.secrets.open(rotated), undefined);
    assert.equal(first.store.envOf(rotated.id)['ROTATED'], 'rotated-canary-value');

    // The control plane's data is played back: version 1's envelope, for a new environment.
    const again = delivery(await SecretVersions.open(dir));
    const played = environment([sealed({ name: 'ROTATED', version: 1, value: 'old-value-1' })]);
    const condition = await again.secrets.open(played);
    assert.deepEqual(again.store.envOf(played.id), {});
    assert.match(
      condition?.message ?? '',
      /org\/ROTATED@v1: its version 1 is older than version 2/,
    );
    assert.equal(again.records[0]?.outcome, 'denied');

    const renewed = environment([sealed({ name: 'ROTATED', version: 3, value: 'new-value-3' })]);
    assert.equal(await again.secrets.open(renewed), undefined);
    assert.equal(again.store.envOf(renewed.id)['ROTATED'], 'new-value-3');
    const other = environment([sealed({ name: 'ROTATED', scope: 'project', scopeId: 'web' })]);
    other.spec.project = 'web';
    assert.equal(await again.secrets.open(other), undefined, 'versions are per scope');

    const path = secretVersionsPath(dir);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const text = await readFile(path, 'utf8');
    assert.ok(text.includes('ROTATED') && !text.includes('value'), text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file secret at a git credential path or under /run/hangar is not delivered', async () => {
  const { secrets, store } = delivery(SecretVersions.inMemory());
  const opened = (extra: Partial<OpenedSecret>): OpenedSecret => ({
    id: newId('sec'),
    name: 'X',
    scope: 'user',
    scopeId: owner.userId,
    version: 1,
    delivery: 'file',
    target: '/run/secrets/x',
    value: Buffer.from('file-canary-value'),
    ...extra,
  });
  const spec: SandboxSpec = {
    environmentId: 'env-files',
    workspaceDir: '/tmp/none',
    workspaceFolder: '/workspaces/repo',
    class: { name: 'small', cpu: 1, memoryMiB: 256, pids: 64 },
    user: { uid: 1000, gid: 1000, name: 'dev' },
    containerEnv: {},
  };
  const git = opened({ name: 'GIT', delivery: 'git', target: 'git.example.com' });
  for (const target of ['/run/hangar/git-credentials/0', '/run/hangar/git-credentials/7']) {
    store.hold(spec.environmentId, [git, opened({ name: 'COLLIDE', target })]);
    await assert.rejects(secrets.files(spec), (error: unknown) => {
      assert.ok(error instanceof HangarError);
      assert.equal(error.details?.['reason'], secretUndeliverableReason);
      assert.match(error.message, /user\/COLLIDE .* is taken by the runner or another secret/);
      return true;
    });
  }
});
