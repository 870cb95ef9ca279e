import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  encodeFrame,
  encodeJsonFrame,
  FrameType,
  PROTOCOL_VERSION,
} from '@hangar/envd/protocol.js';
import { startEnvdServer, type EnvdServer } from '@hangar/envd/server.js';
import { createEnvdClient } from './envd-socket-client.js';
import { startFakeEnvd, type ChallengeAnswer } from './fake-envd.js';

// Who answers on envd's socket: only the envd of the environment the client means gets a request.
let root: string;
let server: EnvdServer;
const auth = { environmentId: 'env_connect_test', secret: randomBytes(32) };

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hangar-envd-connect-'));
  mkdirSync(join(root, 'workspace'));
  server = await startEnvdServer({
    socketPath: join(root, 'envd.sock'),
    environmentId: auth.environmentId,
    authSecret: auth.secret.toString('hex'),
    workspaceFolder: join(root, 'workspace'),
    roots: [join(root, 'workspace')],
    env: { PATH: '/usr/bin:/bin' },
    killGraceMs: 100,
    outputQuietMs: 100,
  });
});

after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const unproven = {
  code: 'environment_not_running',
  message: /answered, but not as that environment's envd.*nothing was sent/,
};

test("envd answers the challenge with this boot's proof, and requests go through", async () => {
  const client = createEnvdClient({ socketPath: server.socketPath, auth });
  try {
    await client.ping();
    const out: Buffer[] = [];
    await client.exec({ command: ['echo', 'ok'], onStdout: (chunk) => void out.push(chunk) });
    assert.equal(Buffer.concat(out).toString(), 'ok\n');
  } finally {
    client.close();
  }
});

test('envd of another environment or boot is refused before any request', async () => {
  const others = [
    { environmentId: 'env_other', secret: auth.secret },
    { environmentId: auth.environmentId, secret: randomBytes(32) },
  ];
  for (const other of others) {
    const client = createEnvdClient({ socketPath: server.socketPath, auth: other });
    await assert.rejects(client.ping(), unproven);
    await assert.rejects(client.exec({ command: ['touch', 'pwned'] }), unproven);
    await assert.rejects(client.writeFile('pwned', Buffer.from('x')), unproven);
    client.close();
  }
  const probe = createEnvdClient({ socketPath: server.socketPath, auth });
  await assert.rejects(probe.readFile('pwned'), { code: 'not_found' });
  probe.close();
});

test('a peer that answers anything but the proof never receives a request', async () => {
  const answers: Array<[ChallengeAnswer, RegExp]> = [
    [{ kind: 'proof', auth: { ...auth, secret: randomBytes(32) } }, unproven.message],
    [{ kind: 'proof', auth: { ...auth, environmentId: 'env_other' } }, unproven.message],
    [{ kind: 'bytes', bytes: encodeFrame(FrameType.proof, randomBytes(32)) }, unproven.message],
    [{ kind: 'bytes', bytes: encodeFrame(FrameType.proof) }, unproven.message],
    [{ kind: 'bytes', bytes: encodeFrame(FrameType.pong) }, unproven.message],
    [
      { kind: 'bytes', bytes: encodeJsonFrame(FrameType.error, { code: 'x', message: 'old' }) },
      unproven.message,
    ],
    [{ kind: 'bytes', bytes: Buffer.from([0, 0, 0, 0, 0x7f]) }, /is not answering/],
    [{ kind: 'silence' }, /is not answering/],
  ];
  for (const [index, [answer, message]] of answers.entries()) {
    const path = join(root, `impostor-${index}.sock`);
    const impostor = await startFakeEnvd({ path, answer });
    const client = createEnvdClient({ socketPath: path, auth, timeoutMs: 200 });
    try {
      await assert.rejects(client.exec({ command: ['true'] }), {
        code: 'environment_not_running',
        message,
      });
      assert.deepEqual(
        impostor.received.map((frame) => frame.type),
        [FrameType.challenge],
        `answer ${index}: the impostor got the challenge and nothing else`,
      );
    } finally {
      client.close();
      await impostor.close();
    }
  }
});

test('anything but a socket at the path is refused unfollowed, with one message', async () => {
  const decoy = await startFakeEnvd({
    path: join(root, 'decoy.sock'),
    answer: { kind: 'proof', auth },
  });
  const hostDir = join(root, 'host-dir');
  mkdirSync(hostDir);
  writeFileSync(join(root, 'plain-file'), 'x');
  const links: Record<string, string> = {
    'to-a-socket': join(root, 'decoy.sock'),
    'to-a-directory': hostDir,
    'to-nothing': join(root, 'no-such-path'),
  };
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(root, name));
  const paths = [
    join(root, 'missing.sock'),
    join(root, 'plain-file'),
    hostDir,
    ...Object.keys(links).map((name) => join(root, name)),
  ];
  const messages = new Set<string>();
  try {
    for (const path of paths) {
      const client = createEnvdClient({ socketPath: path, auth });
      const error = await client.ping().catch((caught: unknown) => caught);
      client.close();
      assert.ok(error instanceof Error, `${path} is refused`);
      assert.equal((error as { code?: unknown }).code, 'environment_not_running');
      messages.add(error.message);
    }
    assert.equal(messages.size, 1, `one message for all: ${[...messages].join(' | ')}`);
    assert.equal(decoy.received.length, 0, 'the socket behind the symlink was never reached');
  } finally {
    await decoy.close();
  }
});

test('a socket path longer than a socket address holds still connects', async () => {
  const deep = join(root, 'd'.repeat(60), 'e'.repeat(60));
  mkdirSync(deep, { recursive: true });
  const cwd = process.cwd();
  process.chdir(deep);
  const fake = await startFakeEnvd({
    path: 'envd.sock',
    answer: { kind: 'proof', auth },
    onRequest: (socket) =>
      socket.end(encodeJsonFrame(FrameType.pong, { protocolVersion: PROTOCOL_VERSION })),
  }).finally(() => process.chdir(cwd));
  const client = createEnvdClient({ socketPath: join(deep, 'envd.sock'), auth });
  try {
    assert.ok(Buffer.byteLength(join(deep, 'envd.sock')) > 108);
    await client.ping();
  } finally {
    client.close();
    await fake.close();
  }
});
