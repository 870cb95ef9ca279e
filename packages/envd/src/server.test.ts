import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { challengeProof } from './auth.js';
import { parseConfig } from './config.js';
import {
  CHALLENGE_NONCE_BYTES,
  decodeJson,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
  type Frame,
} from './protocol.js';
import { startEnvdServer, type EnvdServer } from './server.js';

let base: string;
let server: EnvdServer;
const environmentId = 'env_server_test';
const secret = randomBytes(32);

before(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'hangar-envd-server-')));
  mkdirSync(join(base, 'workspace'));
  server = await startEnvdServer({
    socketPath: join(base, 'envd.sock'),
    environmentId,
    authSecret: secret.toString('hex'),
    workspaceFolder: join(base, 'workspace'),
    roots: [join(base, 'workspace')],
    env: { PATH: '/usr/bin:/bin' },
    killGraceMs: 100,
    outputQuietMs: 100,
  });
});

after(async () => {
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

/** Sends raw bytes on a fresh connection and collects every frame until envd ends it. */
function rawExchange(bytes: Buffer[]): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(server.socketPath);
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
    socket.on('end', () => {
      socket.end();
      resolve(frames);
    });
    socket.on('error', reject);
    for (const part of bytes) socket.write(part);
  });
}

/** Opens with a challenge, checks envd's proof, then sends `bytes`; returns the frames after. */
async function exchange(bytes: Buffer[]): Promise<Frame[]> {
  const nonce = randomBytes(CHALLENGE_NONCE_BYTES);
  const [proof, ...rest] = await rawExchange([encodeFrame(FrameType.challenge, nonce), ...bytes]);
  assert.equal(proof?.type, FrameType.proof);
  assert.deepEqual(proof.payload, challengeProof(secret, nonce, environmentId));
  return rest;
}

function errorOf(frames: Frame[]): { code: string; message: string } {
  const last = frames.at(-1);
  assert.equal(last?.type, FrameType.error, 'the exchange ends with an error frame');
  return decodeJson(last) as { code: string; message: string };
}

test('ping answers with the protocol version; the socket is private', async () => {
  const [pong] = await exchange([encodeFrame(FrameType.ping)]);
  assert.ok(pong);
  assert.equal(pong.type, FrameType.pong);
  assert.deepEqual(decodeJson(pong), { protocolVersion: PROTOCOL_VERSION });
  assert.equal(statSync(server.socketPath).mode & 0o777, 0o600);
});

test("the proof binds the nonce and the environment id to this boot's secret", async () => {
  const nonce = randomBytes(CHALLENGE_NONCE_BYTES);
  const ping = encodeFrame(FrameType.ping);
  const [proof, pong] = await rawExchange([encodeFrame(FrameType.challenge, nonce), ping]);
  assert.equal(proof?.type, FrameType.proof);
  assert.equal(pong?.type, FrameType.pong);
  assert.deepEqual(proof.payload, challengeProof(secret, nonce, environmentId));
  assert.notDeepEqual(proof.payload, challengeProof(secret, nonce, 'env_other'));
  assert.notDeepEqual(proof.payload, challengeProof(randomBytes(32), nonce, environmentId));
  const [again] = await rawExchange([encodeFrame(FrameType.challenge, nonce), ping]);
  assert.deepEqual(again?.payload, proof.payload, 'the proof depends on the nonce alone');
});

test('a connection that does not open with a challenge is refused, requests included', async () => {
  const openers = [
    encodeFrame(FrameType.ping),
    encodeJsonFrame(FrameType.exec, { command: ['true'] }),
    encodeFrame(FrameType.challenge, randomBytes(CHALLENGE_NONCE_BYTES - 1)),
    encodeFrame(FrameType.challenge, Buffer.alloc(0)),
  ];
  for (const opener of openers) {
    const frames = await rawExchange([opener, encodeFrame(FrameType.ping)]);
    assert.equal(frames.length, 1, 'nothing but the error comes back');
    const error = errorOf(frames);
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, /challenge/);
  }
});

test('a connection that does not open with a request is refused', async () => {
  const error = errorOf(await exchange([encodeFrame(FrameType.data, Buffer.from('x'))]));
  assert.equal(error.code, 'invalid_request');
});

test('the configuration needs the environment id and a well-formed secret', () => {
  const good = {
    socketPath: '/run/envd.sock',
    environmentId,
    authSecret: secret.toString('hex'),
    workspaceFolder: '/w',
    roots: ['/w'],
  };
  assert.equal(parseConfig(good).environmentId, environmentId);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, authSecret: undefined }, /authSecret/],
    [{ ...good, authSecret: 'ab'.repeat(16) }, /authSecret must be 64/],
    [{ ...good, authSecret: 'XY'.repeat(32) }, /authSecret/],
    [{ ...good, environmentId: '' }, /environmentId/],
    [{ ...good, environmentId: '../x' }, /environmentId/],
  ];
  for (const [raw, message] of bad) assert.throws(() => parseConfig(raw), message);
});

test('bytes that are not frames end the connection with a protocol error', async () => {
  const error = errorOf(await rawExchange([Buffer.from([0, 0, 0, 1, 0x7f, 0])]));
  assert.equal(error.code, 'invalid_request');
  assert.match(error.message, /protocol error/);
  const json = errorOf(await exchange([encodeFrame(FrameType.exec, Buffer.from('{not json'))]));
  assert.equal(json.code, 'invalid_request');
});

test('malformed exec requests name the bad field', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ command: [] }, /command must be a non-empty list/],
    [{ command: ['echo', 3] }, /every command argument must be a string/],
    [{ command: ['echo'], env: { 'A=B': 'x' } }, /env "A=B"/],
    [{ command: ['echo'], timeoutMs: -1 }, /timeoutMs must be a positive number/],
    [{ command: ['echo'], cwd: '/no/such/dir' }, /cwd \/no\/such\/dir is not a directory/],
  ];
  for (const [body, message] of cases) {
    const error = errorOf(await exchange([encodeJsonFrame(FrameType.exec, body)]));
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, message);
  }
});

test('a write whose size does not match what was announced changes nothing', async () => {
  const target = join(base, 'workspace', 'partial.txt');
  const short = await exchange([
    encodeJsonFrame(FrameType.writeFile, { path: 'partial.txt', size: 10 }),
    encodeFrame(FrameType.data, Buffer.from('12345')),
    encodeFrame(FrameType.dataEnd),
  ]);
  assert.match(errorOf(short).message, /5 bytes arrived, 10 were announced/);
  const long = await exchange([
    encodeJsonFrame(FrameType.writeFile, { path: 'partial.txt', size: 2 }),
    encodeFrame(FrameType.data, Buffer.from('12345')),
  ]);
  assert.match(errorOf(long).message, /more than the 2 bytes announced/);
  const bad = await exchange([encodeJsonFrame(FrameType.writeFile, { path: 'x', size: -1 })]);
  assert.equal(errorOf(bad).code, 'invalid_request');
  assert.equal(existsSync(target), false);
});
