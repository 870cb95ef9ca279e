import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from './config.js';
import { startEgressForwarder } from './egress-forward.js';

const baseConfig = {
  socketPath: '/run/hangar/sock/envd.sock',
  environmentId: 'env_a',
  authSecret: 'ab'.repeat(32),
  workspaceFolder: '/workspaces/a',
  roots: ['/workspaces/a'],
};

function read(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
  });
}

test('the egress setting is optional and checked field by field', () => {
  assert.equal(parseConfig(baseConfig).egress, undefined);
  const egress = { listenPort: 3128, socketPath: '/run/hangar/egress/proxy.sock' };
  assert.deepEqual(parseConfig({ ...baseConfig, egress }).egress, egress);
  assert.throws(
    () => parseConfig({ ...baseConfig, egress: { ...egress, listenPort: 0 } }),
    /egress\.listenPort must be a port number/,
  );
  assert.throws(
    () => parseConfig({ ...baseConfig, egress: { ...egress, socketPath: 'relative' } }),
    /egress\.socketPath must be an absolute path/,
  );
  assert.throws(() => parseConfig({ ...baseConfig, egress: [] }), /egress must be an object/);
});

test('each loopback connection is carried byte for byte to the unix socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-forward-'));
  const socketPath = join(dir, 'proxy.sock');
  const seen: string[] = [];
  const proxy = createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      seen.push(chunk.toString());
      socket.end(`answer to ${chunk.toString()}`);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
  const forwarder = await startEgressForwarder({ listenPort: 0, socketPath });
  try {
    const client = connect(forwarder.port, '127.0.0.1');
    const answer = read(client);
    client.write('CONNECT example.test:443 HTTP/1.1\r\n\r\n');
    assert.equal(await answer, 'answer to CONNECT example.test:443 HTTP/1.1\r\n\r\n');
    assert.deepEqual(seen, ['CONNECT example.test:443 HTTP/1.1\r\n\r\n']);
  } finally {
    await forwarder.close();
    await new Promise((resolve) => proxy.close(resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

test('with no proxy behind the socket a connection simply closes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-forward-'));
  const forwarder = await startEgressForwarder({
    listenPort: 0,
    socketPath: join(dir, 'absent.sock'),
  });
  try {
    const client = connect(forwarder.port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write('GET http://example.test/ HTTP/1.1\r\n\r\n');
    assert.equal(await read(client), '');
  } finally {
    await forwarder.close();
    await rm(dir, { recursive: true, force: true });
  }
});
