import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { startEnvdServer, type EnvdServer } from '@hangar/envd/server.js';
import type { EnvdClient } from '../provider.js';
import { createEnvdClient } from './envd-socket-client.js';
import { waitFor } from './processes.js';

// TCP through the real client and envd on the host, to servers this test starts on 127.0.0.1.
let root: string;
let envd: EnvdServer;
let client: EnvdClient;
const auth = { environmentId: 'env_tcp_client', secret: randomBytes(32) };

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hangar-envd-tcp-'));
  mkdirSync(join(root, 'workspace'));
  envd = await startEnvdServer({
    socketPath: join(root, 'envd.sock'),
    environmentId: auth.environmentId,
    authSecret: auth.secret.toString('hex'),
    workspaceFolder: join(root, 'workspace'),
    roots: [join(root, 'workspace')],
    env: { PATH: '/usr/bin:/bin' },
    killGraceMs: 200,
    outputQuietMs: 200,
  });
  client = createEnvdClient({ socketPath: envd.socketPath, auth });
});

after(async () => {
  client.close();
  await envd.close();
  rmSync(root, { recursive: true, force: true });
});

async function listen(onConnection: (socket: Socket) => void): Promise<Server & { port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** Reads to the end without `for await`, which would destroy the stream and cut its writes. */
function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/**
 * A server that answers `answer` at once and reads slowly, pausing `pauseMs` after each chunk;
 * `onRead` gets the SHA-256 of everything it read once the client ends.
 */
function slowServer(answer: Buffer | string, pauseMs: number, onRead: (sha: string) => void) {
  return listen((socket) => {
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      socket.pause();
      setTimeout(() => socket.resume(), pauseMs);
    });
    socket.on('end', () => onRead(hash.digest('hex')));
    socket.end(answer);
  });
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('bytes cross both ways and each side closes on its own', async () => {
  const server = await listen((socket) => {
    const got: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    socket.on('end', () => {
      socket.write(`you said ${Buffer.concat(got).toString()}; `);
      setTimeout(() => socket.end('and after your end I can still talk'), 50);
    });
  });
  try {
    const stream = await client.connectTcp(server.port);
    stream.write('hello ');
    stream.end('there');
    const answer = await readAll(stream);
    assert.equal(answer.toString(), 'you said hello there; and after your end I can still talk');
  } finally {
    server.close();
  }
});

test('8 MiB each way arrive intact, with a slow reader on the far side', async () => {
  const upload = randomBytes(8 * 1024 * 1024);
  const download = randomBytes(8 * 1024 * 1024);
  let uploaded = '';
  const server = await slowServer(download, 1, (hash) => (uploaded = hash));
  try {
    const stream = await client.connectTcp(server.port, 'localhost');
    const reading = readAll(stream);
    stream.end(upload);
    assert.equal(sha(await reading), sha(download));
    assert.ok(await waitFor(() => uploaded !== '', { timeoutMs: 10_000 }));
    assert.equal(uploaded, sha(upload));
  } finally {
    server.close();
  }
});

test('the last bytes written reach a slow server after its answer was read in full', async () => {
  const upload = randomBytes(4 * 1024 * 1024);
  let uploaded = '';
  const server = await slowServer('ok', 5, (hash) => (uploaded = hash));
  try {
    const stream = await client.connectTcp(server.port);
    const reading = readAll(stream);
    stream.end(upload);
    assert.equal((await reading).toString(), 'ok');
    // Both sides of the stream are done while the server is still reading the upload.
    assert.ok(await waitFor(() => uploaded !== '', { timeoutMs: 30_000 }));
    assert.equal(uploaded, sha(upload));
  } finally {
    server.close();
  }
});

test('destroying the stream closes the connection inside', async () => {
  let closedInside = false;
  const server = await listen((socket) => {
    socket.on('error', () => undefined);
    socket.on('end', () => (closedInside = true));
    socket.resume();
  });
  try {
    const stream = await client.connectTcp(server.port, '127.0.0.1');
    stream.write('x');
    stream.destroy();
    assert.ok(await waitFor(() => closedInside, { timeoutMs: 5000 }));
  } finally {
    server.close();
  }
});

test('a reset from the server fails the stream with a code', async () => {
  const server = await listen((socket) => socket.once('data', () => socket.resetAndDestroy()));
  try {
    const stream = await client.connectTcp(server.port);
    stream.write('x');
    const [error] = (await once(stream, 'error')) as [Error & { code?: string }];
    assert.equal(error.code, 'unreachable');
  } finally {
    server.close();
  }
});

test('a closed port, a far host and a bad port are refused clearly', async () => {
  const server = await listen(() => undefined);
  const port = server.port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(client.connectTcp(port), {
    code: 'port_closed',
    message: new RegExp(`nothing listens on 127\\.0\\.0\\.1:${port} inside the environment`),
  });
  await assert.rejects(client.connectTcp(80, '192.0.2.1'), {
    code: 'invalid_request',
    message: /not a loopback address/,
  });
  await assert.rejects(client.connectTcp(80, 'example.invalid'), { code: 'invalid_request' });
  await assert.rejects(client.connectTcp(0), { code: 'invalid_request' });
  await assert.rejects(client.connectTcp(70_000), { code: 'invalid_request' });
});
