import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { generateEd25519, privateKeyObject, signAccessToken, type AccessClaims } from '@hangar/api';
import { generateEd25519Key } from './host-key.js';
import { ConnectionAuthenticator, fingerprintOf, maxKeysPerConnection } from './auth.js';
import { LocalEnvd, sshTestDeps } from './test-support.js';

function keyPair(type: 'ed25519' | 'rsa' = 'ed25519') {
  const pair =
    type === 'rsa'
      ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 })
      : generateEd25519Key('test');
  const parsed = ssh2.utils.parseKey(pair.private);
  if (parsed instanceof Error) throw parsed;
  const blob = parsed.getPublicSSH();
  return {
    algo: parsed.type,
    blob,
    /** The attempt a client makes: without a signature first, then signed. */
    query: (username: string) => ({
      method: 'publickey',
      username,
      key: { algo: parsed.type, data: blob },
    }),
    signed: (username: string, hashAlgo?: string) => {
      const data = randomBytes(64);
      return {
        method: 'publickey',
        username,
        key: { algo: parsed.type, data: blob },
        blob: data,
        signature: parsed.sign(data, hashAlgo),
        ...(hashAlgo ? { hashAlgo } : {}),
      };
    },
  };
}

function setup() {
  const context = sshTestDeps(new LocalEnvd('/'));
  const authenticator = new ConnectionAuthenticator(context.deps, {
    sourceAddress: '127.0.0.9',
    requestId: 'req_authtest0001',
  });
  return { ...context, authenticator };
}

test('only public keys are offered: none, password and keyboard-interactive are refused', async () => {
  const { authenticator, asked } = setup();
  for (const method of ['none', 'password', 'keyboard-interactive', 'hostbased']) {
    const decision = await authenticator.decide({ method, username: 'env_sshtest00001' });
    assert.equal(decision.kind, 'reject', method);
  }
  assert.equal(asked.length, 0, 'the control plane is not asked for other methods');
});

test('a key is asked about once: the query phase and the signed attempt share the answer', async () => {
  const { authenticator, asked, environmentId } = setup();
  const key = keyPair();
  const query = await authenticator.decide(key.query(environmentId));
  assert.equal(query.kind, 'key-acceptable');
  const signed = await authenticator.decide(key.signed(environmentId));
  assert.equal(signed.kind, 'accept');
  assert.equal(asked.length, 1);
  assert.deepEqual(asked[0], {
    username: environmentId,
    keyType: 'ssh-ed25519',
    publicKey: key.blob.toString('base64'),
    sourceAddress: '127.0.0.9',
  });
  if (signed.kind !== 'accept') return;
  assert.equal(signed.grant.environmentId, environmentId);
  assert.equal(signed.grant.fingerprint, fingerprintOf(key.blob));
  assert.match(signed.grant.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('an RSA key signed with rsa-sha2-256 is verified with that hash', async () => {
  const { authenticator, environmentId } = setup();
  const key = keyPair('rsa');
  assert.equal((await authenticator.decide(key.signed(environmentId, 'sha256'))).kind, 'accept');
  const wrongHash = { ...key.signed(environmentId, 'sha256'), hashAlgo: 'sha512' };
  assert.equal((await authenticator.decide(wrongHash)).kind, 'reject');
});

test('a signature that does not verify is refused and audited, without the key', async () => {
  const { authenticator, audit, environmentId } = setup();
  const key = keyPair();
  const forged = { ...key.signed(environmentId), signature: randomBytes(64) };
  const decision = await authenticator.decide(forged);
  assert.deepEqual(decision, { kind: 'reject', reason: 'the signature does not verify' });
  assert.equal(audit.length, 1);
  assert.equal(audit[0]?.action, 'access.denied');
  assert.equal(audit[0]?.details.keyFingerprint, fingerprintOf(key.blob));
  assert.ok(!JSON.stringify(audit).includes(key.blob.toString('base64')));
});

test('a key the control plane refuses is refused and audited once, by fingerprint', async () => {
  const { authenticator, audit, asked, answerWith, environmentId } = setup();
  answerWith(async () => ({ ok: false, code: 'forbidden', message: 'this key is not registered' }));
  const key = keyPair();
  // A public key alone asks nothing: no grant is minted and nothing tells whose key it is.
  assert.equal((await authenticator.decide(key.query(environmentId))).kind, 'key-acceptable');
  assert.equal(asked.length, 0);
  assert.equal(audit.length, 0);
  assert.equal((await authenticator.decide(key.signed(environmentId))).kind, 'reject');
  assert.equal((await authenticator.decide(key.signed(environmentId))).kind, 'reject');
  assert.equal(asked.length, 1);
  assert.equal(audit.length, 1);
  const record = audit[0];
  assert.equal(record?.action, 'access.denied');
  assert.equal(record?.outcome, 'denied');
  assert.equal(record?.sourceAddress, '127.0.0.9');
  assert.deepEqual(record?.target, { kind: 'environment', id: environmentId });
  assert.equal(record?.details.keyFingerprint, fingerprintOf(key.blob));
  assert.match(String(record?.details.reason), /not registered/);
  assert.ok(!JSON.stringify(audit).includes(key.blob.toString('base64')), 'no key blob');
});

test('a grant is checked like any other: signer, operation, environment', async () => {
  const { authenticator, answerWith, sign, environmentId } = setup();
  const otherSigner = privateKeyObject(generateEd25519().privateKey);
  const cases: Array<[string, () => string, string, RegExp]> = [
    [
      'a foreign signer',
      () => signAccessToken(JSON.parse(decodeClaims(sign())) as AccessClaims, otherSigner),
      environmentId,
      /not signed/,
    ],
    ['no ssh operation', () => sign({ ops: ['exec'] }), environmentId, /does not allow ssh/],
    ['expired', () => sign({ exp: 1 }), environmentId, /expired/],
    ['another runner', () => sign({ aud: 'run_someoneelse01' }), environmentId, /another runner/],
    [
      'another environment',
      () => sign({ env: 'env_someoneelse01' }),
      environmentId,
      /another environment/,
    ],
  ];
  for (const [name, token, answered, reason] of cases) {
    const key = keyPair();
    answerWith(async () => ({ ok: true, token: token(), environmentId: answered }));
    const decision = await authenticator.decide(key.signed(environmentId));
    assert.equal(decision.kind, 'reject', name);
    assert.match(decision.kind === 'reject' ? decision.reason : '', reason, name);
  }
});

test('a username naming one environment cannot be answered with a grant for another', async () => {
  const { authenticator, answerWith, sign } = setup();
  answerWith(async () => ({
    ok: true,
    token: sign({ env: 'env_someoneelse01' }),
    environmentId: 'env_someoneelse01',
  }));
  const decision = await authenticator.decide(keyPair().signed('env_sshtest00001'));
  assert.equal(decision.kind, 'reject');
});

test('a name as the username gets the environment the grant names', async () => {
  const { authenticator, environmentId } = setup();
  const decision = await authenticator.decide(keyPair().signed('my-app'));
  assert.equal(decision.kind === 'accept' ? decision.grant.environmentId : '', environmentId);
});

test('a control plane that cannot be asked means no login', async () => {
  const { authenticator, answerWith, audit } = setup();
  answerWith(async () => {
    throw new Error('the runner is not connected to the control plane');
  });
  const decision = await authenticator.decide(keyPair().signed('my-app'));
  assert.equal(decision.kind, 'reject');
  assert.match(String(audit[0]?.details.reason), /could not be asked/);
});

test('usernames that are no environment id or name are refused without asking', async () => {
  const { authenticator, asked } = setup();
  for (const username of ['root', 'Env_X', 'a'.repeat(64), 'x;rm -rf', '']) {
    const decision = await authenticator.decide(keyPair().query(username));
    if (username === 'root') {
      assert.equal(decision.kind, 'key-acceptable', 'root is a valid environment name');
      continue;
    }
    assert.equal(decision.kind, 'reject', username);
  }
  assert.equal(asked.length, 0);
});

test(`more than ${maxKeysPerConnection} keys on one connection end it`, async () => {
  const { authenticator, answerWith } = setup();
  answerWith(async () => ({ ok: false, code: 'forbidden', message: 'unknown key' }));
  for (let i = 0; i < maxKeysPerConnection; i += 1) {
    await authenticator.decide(keyPair().query('my-app'));
    assert.equal(authenticator.exhausted, false);
  }
  const decision = await authenticator.decide(keyPair().query('my-app'));
  assert.equal(decision.kind, 'reject');
  assert.equal(authenticator.exhausted, true);
});

test('a key blob that is not a key, or not of the type claimed, is refused', async () => {
  const { authenticator, asked } = setup();
  const key = keyPair();
  const garbage = {
    method: 'publickey',
    username: 'my-app',
    key: { algo: 'ssh-ed25519', data: randomBytes(40) },
  };
  assert.equal((await authenticator.decide(garbage)).kind, 'reject');
  const mislabeled = { ...key.query('my-app'), key: { algo: 'ssh-rsa', data: key.blob } };
  assert.equal((await authenticator.decide(mislabeled)).kind, 'reject');
  assert.equal(asked.length, 0);
});

function decodeClaims(token: string): string {
  return Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
}
