import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import createClient from 'openapi-fetch';
import type { DesiredEnvironment } from '@hangar/api';
import { testBackends } from '@hangar/control-plane/storage/testing.js';
import { connectedRunner, createEnvironment } from '@hangar/control-plane/testing/fixtures.js';
import type { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import {
  startTestControlPlane,
  type TestControlPlane,
} from '@hangar/control-plane/testing/harness.js';
import { openEnvironmentSecrets } from '@hangar/runner/secrets/open.js';
import type { paths } from '../api-types.js';
import type { Client } from '../client.js';
import { utf8 } from './bytes.js';
import { memoryKeyStore, type KeyStore } from './key-store.js';
import { runnerPinsName, type RunnerKeyPins } from './runner-pins.js';
import { setSecret, type SecretRequest } from './set-secret.js';

const canary = 'set-secret-flow-canary-77c1e0';

let t: TestControlPlane;
let runner: ProtocolRunner;
let client: Client;

before(async () => {
  const sqlite = testBackends().find((backend) => backend.kind === 'sqlite');
  assert.ok(sqlite);
  t = await startTestControlPlane(sqlite);
  ({ runner } = await connectedRunner(t, 'one'));
  client = createClient<paths>({
    baseUrl: t.url,
    headers: { authorization: `Bearer ${t.owner.token}` },
  });
});

after(async () => {
  runner?.close();
  await t?.close();
});

function request(extra: Partial<SecretRequest> = {}): SecretRequest {
  return {
    name: 'FLOW_TOKEN',
    scope: 'user',
    delivery: 'env',
    target: 'FLOW_TOKEN',
    value: utf8(canary),
    acceptedRunnerKeys: [],
    ...extra,
  };
}

const deps = (store: KeyStore) => ({ client, store, user: t.owner });

/** The value the runner's own opener gets from the latest desired state of `environment`. */
function openedOnRunner(environment: DesiredEnvironment | undefined) {
  assert.ok(environment);
  const { opened, refused } = openEnvironmentSecrets({
    desired: environment,
    runnerId: runner.runnerId,
    key: runner.encryption,
  });
  assert.deepEqual(refused, []);
  return opened.map((secret) => [secret.name, secret.version, secret.value.toString('utf8')]);
}

test('a first set registers the signing key, pins the runner key, reaches the runner', async () => {
  const store = memoryKeyStore();
  const first = await setSecret(deps(store), request());
  assert.equal(first.kind, 'sealed', JSON.stringify(first));
  if (first.kind !== 'sealed') return;
  assert.equal(first.secret.version, 1);
  assert.deepEqual(first.secret.runnerIds, [runner.runnerId]);
  assert.equal(first.signingKey.registered, true);
  assert.deepEqual(
    first.sealedTo.map((item) => [item.name, item.state]),
    [['one', 'new']],
  );
  assert.match(first.sealedTo[0]?.fingerprint ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);

  const environment = await createEnvironment(t);
  const desired = await runner.waitFor(
    (message) => message.type === 'environment' && message.environment.id === environment.id,
  );
  assert.equal(desired.type, 'environment');
  assert.deepEqual(openedOnRunner(runner.desired(environment.id)), [['FLOW_TOKEN', 1, canary]]);

  const second = await setSecret(deps(store), request());
  assert.equal(second.kind, 'sealed');
  if (second.kind !== 'sealed') return;
  assert.equal(second.secret.version, 2);
  assert.equal(second.signingKey.registered, false, 'the kept key is used again');
  assert.equal(second.signingKey.fingerprint, first.signingKey.fingerprint);
  assert.deepEqual(
    second.sealedTo.map((item) => item.state),
    ['pinned'],
  );
});

test('a changed runner key is refused until the user accepts it', async () => {
  const store = memoryKeyStore();
  const pins: RunnerKeyPins = {
    [runner.runnerId]: { fingerprint: 'SHA256:old', name: 'one', pinnedAt: '2026-01-01T00:00:00Z' },
  };
  await store.put(runnerPinsName(t.owner), pins);
  const refused = await setSecret(deps(store), request({ name: 'PINNED', target: 'PINNED' }));
  assert.equal(refused.kind, 'key-changed');
  if (refused.kind !== 'key-changed') return;
  assert.deepEqual(
    refused.changed.map((item) => [item.runnerId, item.pinned.fingerprint]),
    [[runner.runnerId, 'SHA256:old']],
  );
  const listed = await client.GET('/v1/secrets');
  assert.ok(!listed.data?.secrets.some((secret) => secret.name === 'PINNED'), 'nothing stored');

  const accepted = await setSecret(
    deps(store),
    request({ name: 'PINNED', target: 'PINNED', acceptedRunnerKeys: [runner.runnerId] }),
  );
  assert.equal(accepted.kind, 'sealed');
  if (accepted.kind !== 'sealed') return;
  assert.deepEqual(
    accepted.sealedTo.map((item) => item.state),
    ['accepted'],
  );
  const kept = await store.get<RunnerKeyPins>(runnerPinsName(t.owner));
  assert.equal(kept?.[runner.runnerId]?.fingerprint, accepted.sealedTo[0]?.fingerprint);
});

test('a secret deleted and set again continues from its version after one conflict', async () => {
  const store = memoryKeyStore();
  const named = request({ name: 'REBORN', target: 'REBORN' });
  await setSecret(deps(store), named);
  const second = await setSecret(deps(store), named);
  assert.ok(second.kind === 'sealed');
  await client.DELETE('/v1/secrets/{id}', { params: { path: { id: second.secret.id } } });
  const again = await setSecret(deps(store), named);
  assert.equal(again.kind, 'sealed', JSON.stringify(again));
  assert.equal(again.kind === 'sealed' && again.secret.version, 3);
});

test('refusals come in the API words; a value no variable can hold is not sealed', async () => {
  const store = memoryKeyStore();
  const path = await setSecret(deps(store), request({ name: 'PATH', target: 'PATH' }));
  assert.equal(path.kind, 'refused');
  assert.match(path.kind === 'refused' ? path.message : '', /PATH is set by the environment/);
  const nul = await setSecret(deps(store), request({ value: utf8('a\u0000b') }));
  assert.equal(nul.kind, 'refused');
  assert.match(nul.kind === 'refused' ? nul.message : '', /NUL byte/);
  assert.equal(await store.get(runnerPinsName(t.owner)), undefined, 'no pin for a refusal');
});

test('a revoked signing key is replaced by a new one, registered', async () => {
  const store = memoryKeyStore();
  const first = await setSecret(deps(store), request({ name: 'ROTATED', target: 'ROTATED' }));
  assert.ok(first.kind === 'sealed');
  const { data } = await client.GET('/v1/signing-keys');
  const used = data?.signingKeys.find((key) => key.fingerprint === first.signingKey.fingerprint);
  assert.ok(used);
  await client.DELETE('/v1/signing-keys/{id}', { params: { path: { id: used.id } } });
  const next = await setSecret(deps(store), request({ name: 'ROTATED', target: 'ROTATED' }));
  assert.ok(next.kind === 'sealed', JSON.stringify(next));
  assert.equal(next.signingKey.registered, true);
  assert.notEqual(next.signingKey.fingerprint, first.signingKey.fingerprint);
});
