import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { pino } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  controlPlaneWelcomeMessage,
  generateEd25519,
  privateKeyObject,
  publicKeyObject,
  signBytes,
} from '@hangar/api';
import { ControlPlaneConnection } from './connection.js';

const runnerId = 'run_aaaaaaaaaaaaaaaa';

/** A control plane stand-in on loopback that welcomes with the key it is given. */
async function controlPlane(signWith: string, claimKey: string) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', (socket: WebSocket) => {
    const serverNonce = 'n'.repeat(43);
    socket.send(JSON.stringify({ type: 'challenge', nonce: serverNonce }));
    socket.on('message', (data: Buffer) => {
      const hello = JSON.parse(data.toString('utf8')) as { type: string; nonce: string };
      if (hello.type !== 'hello') return;
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
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

function connect(url: string, pinned: string) {
  const runnerKeys = generateEd25519();
  return new ControlPlaneConnection({
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
