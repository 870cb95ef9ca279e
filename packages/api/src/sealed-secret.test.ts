import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateEd25519, privateKeyObject, publicKeyObject } from './keys.js';
import {
  generateX25519,
  isValidX25519PublicKey,
  openSecret,
  sealSecret,
  verifySealedSecret,
  type SecretBinding,
} from './sealed-secret.js';

const runner = generateX25519();
const author = generateEd25519();
const binding: SecretBinding = {
  orgId: 'org_aaaaaaaaaaaaaaaa',
  scope: 'project',
  scopeId: 'web',
  name: 'NPM_TOKEN',
  version: 3,
  delivery: 'env',
  target: 'NPM_TOKEN',
  runnerId: 'run_aaaaaaaaaaaaaaaa',
  authorId: 'usr_aaaaaaaaaaaaaaaa',
};
const value = 'npm_0123456789abcdef\n';

function seal(options: { binding?: SecretBinding; value?: Buffer | string } = {}): string {
  return sealSecret({
    value: options.value ?? value,
    binding: options.binding ?? binding,
    runnerPublicKey: runner.publicKey,
    authorSigningKey: privateKeyObject(author.privateKey),
  });
}

function open(
  envelope: string,
  options: { binding?: SecretBinding; runner?: typeof runner; verifyKey?: string } = {},
) {
  const keys = options.runner ?? runner;
  return openSecret({
    envelope,
    binding: options.binding ?? binding,
    runnerPrivateKey: keys.privateKey,
    runnerPublicKey: keys.publicKey,
    authorVerifyKey: publicKeyObject(options.verifyKey ?? author.publicKey),
  });
}

/** The decoded envelope, a JSON object of base64url fields. */
function fieldsOf(envelope: string): Record<string, string | number> {
  return JSON.parse(Buffer.from(envelope, 'base64url').toString('utf8')) as Record<
    string,
    string | number
  >;
}

function encode(fields: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(fields)).toString('base64url');
}

describe('sealed secrets', () => {
  test('a sealed value opens with the runner key and the same binding, bytes intact', () => {
    const envelope = seal();
    const opened = open(envelope);
    assert.ok(opened.ok);
    assert.equal(opened.value.toString('utf8'), value);
    const binary = Buffer.from([0, 255, 10, 13, 0x80]);
    const openedBinary = open(seal({ value: binary }));
    assert.ok(openedBinary.ok);
    assert.deepEqual(openedBinary.value, binary);
    assert.ok(
      verifySealedSecret({ envelope, binding, authorVerifyKey: publicKeyObject(author.publicKey) }),
    );
  });

  test('two seals of one value differ, and neither holds the value in any form', () => {
    const first = seal();
    const second = seal();
    assert.notEqual(first, second);
    const decoded = Buffer.from(first, 'base64url').toString('utf8');
    for (const form of [
      value,
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('hex'),
    ]) {
      assert.ok(!first.includes(form.trim()) && !decoded.includes(form.trim()));
    }
  });

  test('moved to another name, scope, version, runner, target or author, it does not open', () => {
    const envelope = seal();
    const moves: Partial<SecretBinding>[] = [
      { name: 'OTHER_TOKEN' },
      { scope: 'org', scopeId: '' },
      { scopeId: 'mobile' },
      { scope: 'user', scopeId: 'usr_aaaaaaaaaaaaaaaa' },
      { version: 2 },
      { version: 4 },
      { runnerId: 'run_bbbbbbbbbbbbbbbb' },
      { delivery: 'file', target: '/home/dev/.npmrc' },
      { target: 'OTHER_VAR' },
      { orgId: 'org_bbbbbbbbbbbbbbbb' },
      { authorId: 'usr_bbbbbbbbbbbbbbbb' },
    ];
    for (const move of moves) {
      const moved = { ...binding, ...move };
      const opened = open(envelope, { binding: moved });
      assert.equal(opened.ok, false, JSON.stringify(move));
      assert.ok(
        !verifySealedSecret({
          envelope,
          binding: moved,
          authorVerifyKey: publicKeyObject(author.publicKey),
        }),
      );
    }
  });

  test('a tampered envelope does not open, whichever field changed', () => {
    const envelope = seal();
    const fields = fieldsOf(envelope);
    for (const name of ['epk', 'iv', 'ct', 'tag', 'sig']) {
      const bytes = Buffer.from(String(fields[name]), 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      const tampered = encode({ ...fields, [name]: bytes.toString('base64url') });
      assert.equal(open(tampered).ok, false, name);
    }
    const truncated = encode({
      ...fields,
      tag: Buffer.from(String(fields.tag), 'base64url').subarray(0, 4).toString('base64url'),
    });
    assert.equal(open(truncated).ok, false, 'a truncated tag');
    assert.deepEqual(open(encode({ ...fields, v: 2 })), { ok: false, reason: 'malformed' });
    assert.deepEqual(open('not an envelope'), { ok: false, reason: 'malformed' });
    assert.deepEqual(open(Buffer.from('null').toString('base64url')), {
      ok: false,
      reason: 'malformed',
    });
  });

  test("another author's key neither verifies nor can re-sign it to look like the author", () => {
    const envelope = seal();
    const mallory = generateEd25519();
    assert.deepEqual(open(envelope, { verifyKey: mallory.publicKey }), {
      ok: false,
      reason: 'bad_signature',
    });
    const forged = sealSecret({
      value: 'attacker value',
      binding,
      runnerPublicKey: runner.publicKey,
      authorSigningKey: privateKeyObject(mallory.privateKey),
    });
    assert.deepEqual(open(forged), { ok: false, reason: 'bad_signature' });
  });

  test('keys other than the runner’s cannot open it, the control plane’s included', () => {
    const envelope = seal();
    const otherRunner = generateX25519();
    assert.equal(open(envelope, { runner: otherRunner }).ok, false);
    // What a control plane holds: an Ed25519 signing key, and the runner's public key only.
    const controlPlane = generateEd25519();
    assert.equal(
      open(envelope, {
        runner: { privateKey: controlPlane.privateKey, publicKey: runner.publicKey },
      }).ok,
      false,
    );
    assert.equal(
      open(envelope, { runner: { privateKey: runner.publicKey, publicKey: runner.publicKey } }).ok,
      false,
    );
  });

  test('only 32-byte X25519 public keys are valid', () => {
    assert.ok(isValidX25519PublicKey(runner.publicKey));
    assert.ok(!isValidX25519PublicKey(''));
    assert.ok(!isValidX25519PublicKey(runner.publicKey.slice(0, 40)));
    assert.ok(!isValidX25519PublicKey(`${runner.publicKey}AAAA`));
  });
});
