import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalJson as apiCanonicalJson,
  fingerprint as apiFingerprint,
  generateX25519,
  HangarError,
  newId,
  openSecret,
  publicKeyObject,
  secretValueProblem,
  verifySealedSecret,
  type DesiredEnvironment,
  type DesiredSecret,
} from '@hangar/api';
import { openEnvironmentSecrets } from '@hangar/runner/secrets/open.js';
import { fromBase64url, toBase64url, utf8 } from './bytes.js';
import { canonicalJson } from '../canonical-json.js';
import { fingerprintOf } from './fingerprint.js';
import { sealSecret, signedText, type SecretBinding } from './seal.js';
import { valueProblem } from './value-rules.js';

const value = 'browser-sealed-canary-5e0a1c "quoted" ünïcode';
const runnerKey = generateX25519();

/** An author's Ed25519 key made the way the page makes it: non-extractable. */
async function author() {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64url(raw) };
}

const binding: SecretBinding = {
  orgId: newId('org'),
  scope: 'user',
  scopeId: newId('usr'),
  name: 'API_TOKEN',
  version: 3,
  delivery: 'env',
  target: 'API_TOKEN',
  runnerId: newId('run'),
  authorId: newId('usr'),
};

function apiOpen(envelope: string, sealedAs: SecretBinding, verifyKey: string) {
  return openSecret({
    envelope,
    binding: sealedAs,
    runnerPrivateKey: runnerKey.privateKey,
    runnerPublicKey: runnerKey.publicKey,
    authorVerifyKey: publicKeyObject(verifyKey),
  });
}

test('canonical JSON and fingerprints are byte for byte those of packages/api', async () => {
  const samples: unknown[] = [
    binding,
    { b: [1, undefined, 'x'], a: { é: null, A: true, _: -0.5 }, c: undefined },
    ['line\nbreak', '\u2028', 'emoji 😀', 0, 1e21],
    'text',
    null,
  ];
  for (const sample of samples) assert.equal(canonicalJson(sample), apiCanonicalJson(sample));
  assert.equal(await fingerprintOf(runnerKey.publicKey), apiFingerprint(runnerKey.publicKey));
});

test('what the browser seals opens with the API opener and passes the control plane', async () => {
  const signer = await author();
  const envelope = await sealSecret({
    value: utf8(value),
    binding,
    runnerPublicKey: runnerKey.publicKey,
    signingKey: signer.privateKey,
  });
  const opened = apiOpen(envelope, binding, signer.publicKey);
  assert.ok(opened.ok);
  assert.equal(opened.value.toString('utf8'), value);
  const authorVerifyKey = publicKeyObject(signer.publicKey);
  assert.ok(verifySealedSecret({ envelope, binding, authorVerifyKey }));
  assert.ok(!envelope.includes(Buffer.from(value).toString('base64url').slice(0, 12)));
  await assert.rejects(crypto.subtle.exportKey('pkcs8', signer.privateKey));
});

test('a ciphertext moved to another name, version, target, scope or runner fails', async () => {
  const signer = await author();
  const envelope = await sealSecret({
    value: utf8(value),
    binding,
    runnerPublicKey: runnerKey.publicKey,
    signingKey: signer.privateKey,
  });
  const moves: Partial<SecretBinding>[] = [
    { name: 'OTHER_TOKEN', target: 'OTHER_TOKEN' },
    { version: 4 },
    { target: 'ELSEWHERE' },
    { scope: 'org', scopeId: '' },
    { runnerId: newId('run') },
    { authorId: newId('usr') },
    { delivery: 'file', target: '/run/secrets/api' },
  ];
  for (const move of moves) {
    const moved = { ...binding, ...move };
    assert.deepEqual(apiOpen(envelope, moved, signer.publicKey), {
      ok: false,
      reason: 'bad_signature',
    });
  }

  // Even an author who signs the moved binding again cannot move it: the binding is also the
  // ciphertext's associated data, so decryption fails.
  const parts = JSON.parse(Buffer.from(envelope, 'base64url').toString('utf8')) as Record<
    string,
    string
  >;
  const moved = { ...binding, name: 'OTHER_TOKEN', target: 'OTHER_TOKEN' };
  const { epk = '', iv = '', ct = '', tag = '' } = parts;
  const text = signedText(moved, { epk, iv, ct, tag });
  const sig = await crypto.subtle.sign({ name: 'Ed25519' }, signer.privateKey, utf8(text));
  const resigned = toBase64url(
    utf8(JSON.stringify({ ...parts, sig: toBase64url(new Uint8Array(sig)) })),
  );
  assert.deepEqual(apiOpen(resigned, moved, signer.publicKey), {
    ok: false,
    reason: 'wrong_binding',
  });
});

test("the runner's opener delivers what the browser sealed, not under another name", async () => {
  const signer = await author();
  const runnerId = newId('run');
  const ownerId = newId('usr');
  const sealedAs = { ...binding, scopeId: ownerId, runnerId, authorId: ownerId };
  const secret: DesiredSecret = {
    id: newId('sec'),
    name: sealedAs.name,
    scope: sealedAs.scope,
    scopeId: sealedAs.scopeId,
    delivery: sealedAs.delivery,
    target: sealedAs.target,
    version: sealedAs.version,
    authorId: sealedAs.authorId,
    authorVerifyKey: signer.publicKey,
    envelope: await sealSecret({
      value: utf8(value),
      binding: { ...sealedAs, orgId: binding.orgId },
      runnerPublicKey: runnerKey.publicKey,
      signingKey: signer.privateKey,
    }),
  };
  const desired = (secrets: DesiredSecret[]): DesiredEnvironment => ({
    id: newId('env'),
    orgId: binding.orgId,
    ownerId,
    name: 'sealed-in-browser',
    generation: 1,
    spec: { class: 'small', desiredPhase: 'running' },
    ports: [],
    secrets,
  });
  const { opened, refused } = openEnvironmentSecrets({
    desired: desired([secret]),
    runnerId,
    key: runnerKey,
  });
  assert.deepEqual(refused, []);
  assert.equal(opened[0]?.value.toString('utf8'), value);

  const renamed = { ...secret, name: 'OTHER_TOKEN', target: 'OTHER_TOKEN' };
  assert.throws(
    () => openEnvironmentSecrets({ desired: desired([renamed]), runnerId, key: runnerKey }),
    (error: unknown) =>
      error instanceof HangarError &&
      error.details?.['reason'] === 'secret_unreadable' &&
      !error.message.includes(value),
  );
});

test('value rules agree with the API: no NUL in a variable, one line for git', () => {
  const samples = ['plain', 'a\u0000b', 'token\n', 'two\nlines', 'cr\rline', ''];
  for (const delivery of ['env', 'file', 'git', 'model'] as const) {
    for (const sample of samples) {
      const bytes = utf8(sample);
      assert.equal(
        valueProblem(delivery, bytes) === undefined,
        secretValueProblem(delivery, bytes) === undefined,
        `${delivery} ${JSON.stringify(sample)}`,
      );
    }
  }
});

test('base64url decoding refuses what is not base64url', () => {
  assert.deepEqual([...fromBase64url('AQID')], [1, 2, 3]);
  assert.throws(() => fromBase64url('a+b/'));
});
