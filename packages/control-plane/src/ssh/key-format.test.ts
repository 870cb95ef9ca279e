import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import { keyMaker, type GeneratedKey } from '../testing/ssh-keygen.js';
import { parseSshKeyBlob, parseSshPublicKeyLine } from './key-format.js';
import { checkRunnerSsh, checkSshAddress } from './runner-ssh.js';

let keys: Awaited<ReturnType<typeof keyMaker>>;
const made: Record<string, GeneratedKey> = {};

before(async () => {
  keys = await keyMaker();
  made.ed25519 = await keys.make('ed25519');
  made.p256 = await keys.make('ecdsa', 256);
  made.p384 = await keys.make('ecdsa', 384);
  made.p521 = await keys.make('ecdsa', 521);
  made.rsa2048 = await keys.make('rsa', 2048);
  made.rsa1024 = await keys.make('rsa', 1024);
});

after(() => keys.remove());

function key(name: string): GeneratedKey {
  const found = made[name];
  assert.ok(found, name);
  return found;
}

/** Builds a blob from SSH wire strings. */
function wire(...parts: (string | Buffer)[]): string {
  return Buffer.concat(
    parts.flatMap((part) => {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'latin1') : part;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  ).toString('base64');
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.fields?.[0]?.field, 'publicKey');
    return error.message;
  }
  assert.fail('expected a refusal');
}

describe('OpenSSH public keys', () => {
  it('reads every accepted type and agrees with ssh-keygen on fingerprint and size', () => {
    const expected: Record<string, string> = {
      ed25519: 'ssh-ed25519',
      p256: 'ecdsa-sha2-nistp256',
      p384: 'ecdsa-sha2-nistp384',
      p521: 'ecdsa-sha2-nistp521',
      rsa2048: 'ssh-rsa',
    };
    for (const [name, type] of Object.entries(expected)) {
      const generated = key(name);
      const parsed = parseSshPublicKeyLine(generated.line, 'publicKey');
      assert.equal(parsed.keyType, type);
      assert.equal(parsed.fingerprint, generated.fingerprint, name);
      assert.equal(parsed.bits, generated.bits, name);
      assert.equal(parsed.line, `${type} ${generated.blob}`, 'the comment is dropped');
      assert.doesNotMatch(parsed.line, /alice/);
      assert.deepEqual(parseSshKeyBlob(generated.blob, 'publicKey'), parsed);
    }
  });

  it('refuses small RSA keys, naming the size and what to use', () => {
    const message = refusal(() => parseSshPublicKeyLine(key('rsa1024').line, 'publicKey'));
    assert.match(message, /RSA key of 1024 bits; use at least 2048 bits/);
  });

  it('refuses what is not one public key line', () => {
    const ed = key('ed25519');
    const cases: [string, RegExp][] = [
      ['', /must start with the key type/],
      [`command="true" ${ed.line}`, /must start with the key type/],
      [`${ed.line}\n${ed.line}`, /must be one line/],
      ['-----BEGIN OPENSSH PRIVATE KEY-----', /is a private key/],
      [`ssh-ed25519-cert-v01@openssh.com ${ed.blob}`, /must start with the key type/],
      [`sk-ssh-ed25519@openssh.com ${ed.blob}`, /must start with the key type/],
      ['ssh-ed25519 not*base64', /is not base64/],
      [`ssh-rsa ${ed.blob}`, /says ssh-rsa but its key data is ssh-ed25519/],
      [`ssh-ed25519 ${ed.blob.slice(0, 40)}`, /not base64|32 bytes/],
    ];
    for (const [line, pattern] of cases) {
      assert.match(
        refusal(() => parseSshPublicKeyLine(line, 'publicKey')),
        pattern,
        line,
      );
    }
  });

  it('parses the blob field by field and refuses any malformed one', () => {
    const ed = Buffer.from(key('ed25519').blob, 'base64');
    const edKey = ed.subarray(ed.length - 32);
    const p256 = Buffer.from(key('p256').blob, 'base64');
    const point = p256.subarray(p256.length - 65);
    const offCurve = Buffer.from(point);
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    const cases: [string, RegExp][] = [
      [wire('ssh-ed25519', edKey, 'extra'), /bytes after the key/],
      [wire('ssh-ed25519', edKey.subarray(1)), /not 32 bytes/],
      [wire('ssh-dss', edKey), /type ssh-dss; accepted types are/],
      [wire('ecdsa-sha2-nistp256', 'nistp384', point), /names the curve nistp384/],
      [wire('ecdsa-sha2-nistp256', 'nistp256', offCurve), /not on its curve/],
      [wire('ecdsa-sha2-nistp256', 'nistp256', point.subarray(0, 33)), /not an uncompressed/],
      [wire('ssh-rsa', Buffer.from([0x81]), Buffer.alloc(256, 0xff)), /numbers are not valid/],
      [wire('ssh-rsa', Buffer.from([0x03])), /numbers are not valid/],
      [ed.subarray(0, 10).toString('base64'), /not base64|type/],
    ];
    for (const [blob, pattern] of cases) {
      assert.match(
        refusal(() => parseSshKeyBlob(blob, 'publicKey')),
        pattern,
        blob,
      );
    }
  });
});

describe('a runner SSH gateway', () => {
  it('accepts dialable addresses and refuses the rest', () => {
    for (const address of ['ssh.example.com:2222', '10.0.0.5:22', '[fd00::5]:2222', 'r1:1']) {
      assert.equal(checkSshAddress(address, 'ssh.address'), address);
    }
    for (const address of [
      'host',
      'host:0',
      'host:65536',
      'fd00::5:22',
      '[not-v6]:22',
      '0.0.0.0:2222',
      '[::]:2222',
      'bad_host!:22',
      '-lead.example:22',
    ]) {
      assert.throws(() => checkSshAddress(address, 'ssh.address'), /ssh\.address/, address);
    }
  });

  it('normalizes host keys to type and blob, refusing bad and repeated ones', () => {
    const checked = checkRunnerSsh({
      address: '127.0.0.1:2222',
      hostKeys: [key('ed25519').line, key('p256').line],
    });
    assert.deepEqual(checked.hostKeys, [
      `ssh-ed25519 ${key('ed25519').blob}`,
      `ecdsa-sha2-nistp256 ${key('p256').blob}`,
    ]);
    assert.throws(
      () => checkRunnerSsh({ address: '127.0.0.1:2222', hostKeys: ['ssh-ed25519 AAAA'] }),
      /ssh\.hostKeys\.0/,
    );
    assert.throws(
      () =>
        checkRunnerSsh({
          address: '127.0.0.1:2222',
          hostKeys: [key('ed25519').line, key('ed25519').line],
        }),
      /lists one key twice/,
    );
  });
});
