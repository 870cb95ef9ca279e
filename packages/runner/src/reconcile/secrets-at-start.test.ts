import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import {
  generateX25519,
  newId,
  type DesiredEnvironment,
  type DesiredSecret,
  type EnvironmentStatus,
} from '@hangar/api';
import { resolveRunnerConfig } from '../config.js';
import { makeTempDir } from '../git/testing/index.js';
import { MemoryProvider } from '../providers/memory-provider.js';
import { SecretDelivery } from '../secrets/delivery.js';
import { SecretStore } from '../secrets/store.js';
import { sealedSecret, testAuthor } from '../secrets/testing.js';
import { SecretVersions } from '../secrets/versions.js';
import { StateStore } from '../state-store.js';
import { Reconciler } from './reconciler.js';

const runnerKey = generateX25519();
const runnerId = newId('run');
const orgId = newId('org');
const author = testAuthor();
const environmentId = newId('env');

const secret = (name: string): DesiredSecret =>
  sealedSecret({
    orgId,
    runnerId,
    runnerPublicKey: runnerKey.publicKey,
    author,
    name,
    value: `${name.toLowerCase()}-canary-value`,
  });

function desired(
  secrets: DesiredSecret[],
  phase: 'running' | 'stopped',
  generation: number,
): DesiredEnvironment {
  return {
    id: environmentId,
    orgId,
    ownerId: author.userId,
    name: 'held',
    generation,
    spec: { class: 'small', desiredPhase: phase },
    ports: [],
    secrets,
  };
}

async function setup() {
  const temp = await makeTempDir('hangar-secrets-at-start-');
  const dataDir = `${temp.path}/runner`;
  const config = await resolveRunnerConfig({ controlPlaneUrl: 'http://127.0.0.1:1', dataDir });
  const store = new StateStore(dataDir, undefined);
  await store.init();
  const provider = new MemoryProvider();
  const versions = SecretVersions.inMemory();
  const reports: EnvironmentStatus[] = [];
  /** A runner process: a fresh secret store (values live in memory only) over the same disk. */
  const runner = async () => {
    const secrets = new SecretStore();
    const reconciler = new Reconciler({
      provider,
      store,
      config,
      logger: pino({ level: 'silent' }),
      gatewayUrl: () => 'http://127.0.0.1:7',
      report: (_id, status) => reports.push(status),
      secrets: new SecretDelivery({
        runnerId,
        key: runnerKey,
        store: secrets,
        versions,
        memory: undefined,
        audit: { append: (draft) => Promise.resolve(draft) },
        logger: pino({ level: 'silent' }),
      }),
    });
    await reconciler.restore();
    const converge = async (next: DesiredEnvironment) => {
      reconciler.update(next);
      await reconciler.idle();
      assert.equal(reports.at(-1)?.phase, next.spec.desiredPhase, JSON.stringify(reports.at(-1)));
    };
    return { converge, names: () => Object.keys(secrets.envOf(environmentId)).sort() };
  };
  return { temp, runner, provider };
}

test('a running environment keeps the secrets it started with; changes apply at its next start', async () => {
  const s = await setup();
  try {
    const first = await s.runner();
    await first.converge(desired([], 'running', 1));
    assert.deepEqual(first.names(), []);

    // The first secret set while it runs: the control plane sends it, the sandbox runs on.
    const token = secret('TOKEN');
    await first.converge(desired([token], 'running', 1));
    assert.deepEqual(first.names(), [], 'a secret set while it runs waits for the next start');

    // A runner restarted while the sandbox runs opens what it started with, and nothing newer.
    const restarted = await s.runner();
    await restarted.converge(desired([token], 'running', 1));
    assert.deepEqual(restarted.names(), []);
    assert.equal(s.provider.starts.length, 1, 'the sandbox was never restarted');

    await restarted.converge(desired([token], 'stopped', 2));
    await restarted.converge(desired([token], 'running', 3));
    assert.deepEqual(restarted.names(), ['TOKEN'], 'the next start delivers it');

    // Started with TOKEN; KEY set while it runs: a restarted runner reopens TOKEN alone.
    const key = secret('KEY');
    await restarted.converge(desired([token, key], 'running', 3));
    assert.deepEqual(restarted.names(), ['TOKEN']);
    const again = await s.runner();
    await again.converge(desired([token, key], 'running', 3));
    assert.deepEqual(again.names(), ['TOKEN']);

    await again.converge(desired([token, key], 'stopped', 4));
    assert.deepEqual(again.names(), [], 'a stop forgets them');
    await again.converge(desired([key], 'running', 5));
    assert.deepEqual(again.names(), ['KEY'], 'a secret deleted while stopped is gone at start');
  } finally {
    await s.temp.remove();
  }
});
