import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  controlPlaneWelcomeMessage,
  fingerprint,
  generateEd25519,
  privateKeyObject,
  publicKeyObject,
  runnerChallengeMessage,
  runnerRotateKeyMessage,
  signBytes,
  verifyBytes,
} from '@hangar/api';
import { HangarError } from '@hangar/api';
import { loadIdentity } from '../identity.js';
import { ControlPlaneConnection } from './connection.js';

const runnerId = 'run_aaaaaaaaaaaaaaaa';

type Frame = { type: string; [key: string]: unknown };

/**
 * A control plane stand-in on loopback that welcomes with the key it is given; every later
 * frame goes to `onFrame`, with the socket to answer on.
 */
async function controlPlane(
  signWith: string,
  claimKey: string,
  onFrame: (frame: Frame, socket: WebSocket) => void = () => undefined,
) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const hellos: Frame[] = [];
  server.on('connection', (socket: WebSocket) => {
    const serverNonce = 'n'.repeat(43);
    socket.send(JSON.stringify({ type: 'challenge', nonce: serverNonce }));
    socket.on('message', (data: Buffer) => {
      const hello = JSON.parse(data.toString('utf8')) as Frame & { nonce: string };
      if (hello.type !== 'hello') {
        onFrame(hello, socket);
        return;
      }
      hellos.push(hello);
      const signed = controlPlaneWelcomeMessage({
        runnerId,
        runnerNonce: hello.nonce,
        serverNonce,
      });
      socket.send(
        JSON.stringify({
          type: 'welcome',
          runnerId,
          orgId: 'org_aaaaaaaaaaaaaaaa',
          controlPlanePublicKey: claimKey,
          heartbeatIntervalMs: 1000,
          signature: signBytes(privateKeyObject(signWith), signed),
          auditAckedSeq: 999,
          environments: [],
        }),
      );
    });
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, hellos, close: () => server.close() };
}

function connect(
  url: string,
  pinned: string,
  extra: Partial<ConstructorParameters<typeof ControlPlaneConnection>[0]> = {},
) {
  const runnerKeys = generateEd25519();
  return new ControlPlaneConnection({
    ...extra,
    identity: {
      runnerId,
      orgId: 'org_aaaaaaaaaaaaaaaa',
      controlPlaneUrl: url,
      controlPlanePublicKey: publicKeyObject(pinned),
      controlPlanePublicKeyRaw: pinned,
      privateKey: privateKeyObject(runnerKeys.privateKey),
    },
    gatewayUrl: () => 'http://127.0.0.1:1',
    classes: [{ name: 'small', cpu: 1, memoryMiB: 256, pids: 64 }],
    logger: pino({ level: 'silent' }),
  });
}

test('the runner accepts a welcome signed by the key it pinned at enrollment', async () => {
  const real = generateEd25519();
  const cp = await controlPlane(real.privateKey, real.publicKey);
  const connection = connect(cp.url, real.publicKey);
  try {
    connection.start();
    const welcomed = (await once(connection, 'welcome')) as [{ runnerId: string }];
    assert.equal(welcomed[0].runnerId, runnerId);
    assert.equal(connection.connected, true);
  } finally {
    connection.close();
    cp.close();
  }
});

test('an impostor answering the dial is refused, with its own key or the pinned one', async () => {
  const real = generateEd25519();
  const impostor = generateEd25519();
  for (const claimed of [impostor.publicKey, real.publicKey]) {
    const cp = await controlPlane(impostor.privateKey, claimed);
    const connection = connect(cp.url, real.publicKey);
    let welcomed = false;
    connection.on('welcome', () => (welcomed = true));
    try {
      connection.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(welcomed, false);
      assert.equal(connection.connected, false);
    } finally {
      connection.close();
      cp.close();
    }
  }
});

test('authorizeSsh matches each answer to its request, and a revoke is an event', async () => {
  const keys = generateEd25519();
  const cp = await controlPlane(keys.privateKey, keys.publicKey, (frame, socket) => {
    if (frame.type !== 'ssh-authorize') return;
    const requestId = frame.requestId as string;
    const answer =
      frame.username === 'env_aaaaaaaaaaaaaaaa'
        ? {
            ok: true,
            token: `hat1.for-${frame.sourceAddress as string}`,
            environmentId: frame.username,
          }
        : { ok: false, code: 'forbidden', message: 'no' };
    // Answers go back in the reverse order of the requests.
    setTimeout(
      () => socket.send(JSON.stringify({ type: 'ssh-authorization', requestId, ...answer })),
      frame.username === 'env_aaaaaaaaaaaaaaaa' ? 50 : 0,
    );
    if (frame.username === 'revoke-me') {
      socket.send(
        JSON.stringify({ type: 'revoke', actorId: 'usr_aaaaaaaaaaaaaaaa', reason: 'key removed' }),
      );
    }
  });
  const ssh = { address: '127.0.0.1:2222', hostKeys: ['ssh-ed25519 AAAA'] };
  const connection = connect(cp.url, keys.publicKey, { ssh: () => ssh });
  try {
    connection.start();
    await once(connection, 'welcome');
    assert.deepEqual(cp.hellos[0]?.ssh, ssh, 'the hello publishes the SSH gateway');
    const request = { keyType: 'ssh-ed25519', publicKey: 'AAAA' };
    const revoked = once(connection, 'revoke');
    const [granted, refused] = await Promise.all([
      connection.authorizeSsh({ ...request, username: 'env_aaaaaaaaaaaaaaaa', sourceAddress: 'a' }),
      connection.authorizeSsh({ ...request, username: 'revoke-me', sourceAddress: 'b' }),
    ]);
    assert.deepEqual(granted, {
      ok: true,
      token: 'hat1.for-a',
      environmentId: 'env_aaaaaaaaaaaaaaaa',
    });
    assert.deepEqual(refused, { ok: false, code: 'forbidden', message: 'no' });
    const [revoke] = (await revoked) as [{ actorId: string; reason: string }];
    assert.equal(revoke.actorId, 'usr_aaaaaaaaaaaaaaaa');
    assert.equal(revoke.reason, 'key removed');
  } finally {
    connection.close();
    cp.close();
  }
});

test('authorizeSsh fails as runner_unavailable when unanswered, closed or not connected', async () => {
  const keys = generateEd25519();
  let seen = 0;
  const cp = await controlPlane(keys.privateKey, keys.publicKey, (frame, socket) => {
    if (frame.type !== 'ssh-authorize') return;
    seen += 1;
    if (frame.username === 'drop') socket.terminate();
  });
  const connection = connect(cp.url, keys.publicKey, { sshAuthorizeTimeoutMs: 100 });
  const request = { keyType: 'ssh-ed25519', publicKey: 'AAAA', sourceAddress: '127.0.0.1' };
  const unavailable = (error: unknown) =>
    error instanceof HangarError && error.code === 'runner_unavailable';
  try {
    await assert.rejects(connection.authorizeSsh({ ...request, username: 'x' }), unavailable);
    assert.equal(seen, 0, 'nothing is sent before the connection is up');
    connection.start();
    await once(connection, 'welcome');
    await assert.rejects(connection.authorizeSsh({ ...request, username: 'silent' }), (error) => {
      assert.ok(unavailable(error));
      assert.match((error as Error).message, /did not answer .* within 100 ms/);
      return true;
    });
    await assert.rejects(connection.authorizeSsh({ ...request, username: 'drop' }), (error) => {
      assert.ok(unavailable(error));
      assert.match((error as Error).message, /connection closed/);
      return true;
    });
    assert.equal(seen, 2);
  } finally {
    connection.close();
    cp.close();
  }
});

test('on a rotation request the runner proves a new key, then keeps it on disk and signs with it', async () => {
  const controlPlaneKeys = generateEd25519();
  const oldKeys = generateEd25519();
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-rotate-'));
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  await writeFile(
    join(dataDir, 'runner-identity.json'),
    JSON.stringify({
      runnerId,
      orgId: 'org_aaaaaaaaaaaaaaaa',
      controlPlaneUrl: url,
      controlPlanePublicKey: controlPlaneKeys.publicKey,
      publicKey: oldKeys.publicKey,
      privateKey: oldKeys.privateKey,
    }),
    { mode: 0o600 },
  );
  const identity = await loadIdentity(dataDir);
  assert.ok(identity);
  let accepted = oldKeys.publicKey;
  const refusedProofs: string[] = [];
  let connections = 0;
  server.on('connection', (socket: WebSocket) => {
    connections += 1;
    const serverNonce = `${'n'.repeat(42)}${connections}`;
    socket.send(JSON.stringify({ type: 'challenge', nonce: serverNonce }));
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Frame & Record<string, string>;
      if (frame.type === 'hello') {
        const ok = verifyBytes(
          publicKeyObject(accepted),
          runnerChallengeMessage(serverNonce, runnerId),
          frame.signature ?? '',
        );
        if (!ok) {
          socket.close(4003, 'bad signature');
          return;
        }
        const signed = controlPlaneWelcomeMessage({
          runnerId,
          runnerNonce: frame.nonce ?? '',
          serverNonce,
        });
        socket.send(
          JSON.stringify({
            type: 'welcome',
            runnerId,
            orgId: 'org_aaaaaaaaaaaaaaaa',
            controlPlanePublicKey: controlPlaneKeys.publicKey,
            heartbeatIntervalMs: 1000,
            signature: signBytes(privateKeyObject(controlPlaneKeys.privateKey), signed),
            auditAckedSeq: 0,
            environments: [],
          }),
        );
        if (connections === 1) socket.send(JSON.stringify({ type: 'rotate-key-request' }));
      } else if (frame.type === 'rotate-key') {
        const proof = runnerRotateKeyMessage({ runnerId, serverNonce });
        if (!verifyBytes(publicKeyObject(frame.publicKey ?? ''), proof, frame.proof ?? '')) {
          refusedProofs.push(frame.proof ?? '');
          return;
        }
        accepted = frame.publicKey ?? '';
        socket.send(
          JSON.stringify({ type: 'key-rotated', publicKeyFingerprint: fingerprint(accepted) }),
        );
      }
    });
  });
  const connection = new ControlPlaneConnection({
    identity,
    gatewayUrl: () => 'http://127.0.0.1:1',
    classes: [{ name: 'small', cpu: 1, memoryMiB: 256, pids: 64 }],
    logger: pino({ level: 'silent' }),
  });
  try {
    connection.start();
    const [rotated] = (await once(connection, 'keyRotated')) as [string];
    assert.deepEqual(refusedProofs, []);
    assert.notEqual(accepted, oldKeys.publicKey);
    assert.equal(rotated, fingerprint(accepted));
    const path = join(dataDir, 'runner-identity.json');
    const stored = JSON.parse(await readFile(path, 'utf8')) as { publicKey: string };
    assert.equal(stored.publicKey, accepted);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(dataDir)).filter((name) => name.endsWith('.tmp')),
      [],
    );
    for (const client of server.clients) client.close(1012, 'restarting');
    await once(connection, 'welcome');
    assert.equal(connections, 2, 'the next hello was signed with the new key and welcomed');
  } finally {
    connection.close();
    server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
