import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import type { Result } from '../client.js';
import { isLeaveKey } from './keys.js';
import {
  TerminalConnection,
  type SocketTarget,
  type TerminalState,
} from './terminal-connection.js';

/** One connection as the fake gateway saw it: its subprotocols and every message it got. */
interface Served {
  protocols: string[];
  socket: WebSocket;
  messages: Array<{ text?: unknown; bytes?: string }>;
  received: (count: number) => Promise<void>;
}

let server: WebSocketServer;
let url: string;
let onConnection: (served: Served) => void = () => undefined;

before(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/environments/e/terminal`;
  server.on('connection', (socket, request) => {
    const waiting: Array<{ count: number; resolve: () => void }> = [];
    const served: Served = {
      protocols: (request.headers['sec-websocket-protocol'] ?? '').split(/,\s*/),
      socket,
      messages: [],
      received: (count) =>
        new Promise((resolve) => {
          if (served.messages.length >= count) resolve();
          else waiting.push({ count, resolve });
        }),
    };
    socket.on('message', (data: RawData, isBinary) => {
      const buffer = Buffer.from(data as Buffer);
      served.messages.push(
        isBinary ? { bytes: buffer.toString() } : { text: JSON.parse(buffer.toString()) },
      );
      for (const wait of waiting.filter((item) => served.messages.length >= item.count)) {
        wait.resolve();
      }
    });
    onConnection(served);
  });
});

after(() => server.close());

/** A connection to the fake gateway, recording its output and states. */
function connect(
  targets: Array<Result<SocketTarget>> | (() => Result<SocketTarget>),
  extra: { processId?: string } = {},
) {
  const output: string[] = [];
  const states: TerminalState[] = [];
  const changed: Array<() => void> = [];
  let asked = 0;
  const connection = new TerminalConnection({
    target: async () => {
      asked += 1;
      if (typeof targets === 'function') return targets();
      return targets.shift() ?? { ok: true, data: { url, protocols: ['hangar.v1', 'g'] } };
    },
    openSocket: (target) => new WebSocket(target.url, target.protocols),
    size: () => ({ cols: 100, rows: 30 }),
    onOutput: (bytes) => output.push(Buffer.from(bytes).toString()),
    onState: (state) => {
      states.push(state);
      for (const notify of changed.splice(0)) notify();
    },
    retryDelayMs: 5,
    ...extra,
  });
  const stateIs = async (kind: TerminalState['kind']) => {
    while (states.at(-1)?.kind !== kind) await new Promise<void>((r) => changed.push(r));
    return states.at(-1);
  };
  return { connection, output, states, stateIs, asked: () => asked };
}

function nextConnection(): Promise<Served> {
  return new Promise((resolve) => {
    onConnection = resolve;
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const send = (served: Served, message: Record<string, unknown>) =>
  served.socket.send(JSON.stringify(message));

test('opens a shell with its size, carries keys and output, and says when it resizes', async () => {
  const arriving = nextConnection();
  const { connection, output, stateIs } = connect([
    { ok: true, data: { url, protocols: ['hangar.v1', 'hangar-grant.hat1.one'] } },
  ]);
  const running = connection.run();
  const served = await arriving;
  assert.deepEqual(served.protocols, ['hangar.v1', 'hangar-grant.hat1.one']);
  await served.received(1);
  assert.deepEqual(served.messages[0], { text: { type: 'open', cols: 100, rows: 30 } });

  connection.input(new TextEncoder().encode('typed early'));
  send(served, { type: 'ready', processId: 'proc_1', replayedFrom: 0 });
  assert.deepEqual(await stateIs('ready'), {
    kind: 'ready',
    processId: 'proc_1',
    reattached: false,
    lostBytes: 0,
  });
  await served.received(3);
  assert.deepEqual(served.messages[1], { text: { type: 'resize', cols: 100, rows: 30 } });
  assert.deepEqual(served.messages[2], { bytes: 'typed early' }, 'held until ready, then sent');

  served.socket.send(Buffer.from('hello\r\n'), { binary: true });
  connection.resize();
  await served.received(4);
  await until(() => output.length > 0);
  assert.deepEqual(output, ['hello\r\n']);
  send(served, { type: 'exit', exitCode: 0, signal: null, timedOut: false });
  await running;
  assert.deepEqual(await stateIs('exited'), { kind: 'exited', exitCode: 0, signal: null });
});

test('after a drop it attaches again from its offset, with a fresh grant, losing nothing', async () => {
  let arriving = nextConnection();
  const { connection, output, stateIs, asked } = connect([]);
  const running = connection.run();
  const first = await arriving;
  await first.received(1);
  send(first, { type: 'ready', processId: 'proc_2', replayedFrom: 0 });
  await stateIs('ready');
  first.socket.send(Buffer.from('abc'), { binary: true });
  send(first, { type: 'offset', offset: 3 });
  await until(() => output.join('') === 'abc');

  arriving = nextConnection();
  first.socket.terminate();
  await stateIs('reconnecting');
  connection.input(Buffer.from('typed while away'));
  const second = await arriving;
  await second.received(1);
  assert.deepEqual(second.messages[0], {
    text: { type: 'attach', processId: 'proc_2', fromOffset: 3, cols: 100, rows: 30 },
  });
  assert.equal(asked(), 2, 'a grant for each connection');
  send(second, { type: 'ready', processId: 'proc_2', replayedFrom: 3 });
  second.socket.send(Buffer.from('def'), { binary: true });
  assert.deepEqual(await stateIs('ready'), {
    kind: 'ready',
    processId: 'proc_2',
    reattached: true,
    lostBytes: 0,
  });
  await second.received(3);
  assert.deepEqual(second.messages[2], { bytes: 'typed while away' });
  await until(() => output.join('') === 'abcdef');

  // The runner kept less than was missed: what it no longer has is counted as lost.
  arriving = nextConnection();
  second.socket.terminate();
  const third = await arriving;
  await third.received(1);
  assert.deepEqual(third.messages[0], {
    text: { type: 'attach', processId: 'proc_2', fromOffset: 6, cols: 100, rows: 30 },
  });
  send(third, { type: 'ready', processId: 'proc_2', replayedFrom: 10 });
  const back = await stateIs('ready');
  assert.equal(back?.kind === 'ready' ? back.lostBytes : -1, 4);
  connection.close();
  await running;
  assert.equal((await stateIs('closed'))?.kind, 'closed');
});

test('a refusal is final; an unreachable control plane is tried again while reattaching', async () => {
  const refused = connect([{ ok: false, status: 403, message: 'not your environment' }]);
  await refused.connection.run();
  assert.deepEqual(refused.states.at(-1), {
    kind: 'failed',
    message: 'not your environment',
    processId: null,
  });
  assert.equal(refused.asked(), 1);

  let arriving = nextConnection();
  const ok = { ok: true as const, data: { url, protocols: ['hangar.v1'] } };
  const flaky = connect([
    ok,
    { ok: false, status: 0, message: 'the control plane could not be reached' },
    ok,
  ]);
  const running = flaky.connection.run();
  const first = await arriving;
  await first.received(1);
  send(first, { type: 'ready', processId: 'proc_3', replayedFrom: 0 });
  await flaky.stateIs('ready');
  arriving = nextConnection();
  first.socket.terminate();
  const again = await arriving;
  await again.received(1);
  assert.equal(flaky.asked(), 3, 'asked again after the control plane could not be reached');
  assert.deepEqual(
    flaky.states.filter((state) => state.kind === 'reconnecting').map((state) => state.attempt),
    [1, 2],
  );
  send(again, { type: 'error', code: 'forbidden', message: 'the terminal session was ended' });
  await running;
  assert.deepEqual(flaky.states.at(-1), {
    kind: 'failed',
    message: 'the terminal session was ended',
    processId: 'proc_3',
  });
});

test('a shell never opened is not reopened behind the user: a drop before ready fails', async () => {
  const arriving = nextConnection();
  const { connection, states } = connect([]);
  const running = connection.run();
  const served = await arriving;
  await served.received(1);
  served.socket.terminate();
  await running;
  assert.equal(states.at(-1)?.kind, 'failed');
});

test('reconnects to a known shell give up after the limit, keeping its id to reattach', async () => {
  let connections = 0;
  onConnection = (served) => {
    connections += 1;
    served.socket.terminate();
  };
  const { connection, states } = connect(
    () => ({ ok: true, data: { url, protocols: ['hangar.v1'] } }),
    { processId: 'proc_9' },
  );
  await connection.run();
  const last = states.at(-1);
  assert.equal(last?.kind, 'failed');
  assert.match(last?.kind === 'failed' ? last.message : '', /could not be restored/);
  assert.equal(last?.kind === 'failed' ? last.processId : null, 'proc_9');
  assert.equal(connections, 9, 'the first try and 8 more');
});

test('Ctrl+Shift+L leaves the terminal; Ctrl+L stays with the shell', () => {
  const key = { ctrlKey: true, shiftKey: true, altKey: false, metaKey: false, key: 'L' };
  assert.equal(isLeaveKey(key), true);
  assert.equal(isLeaveKey({ ...key, shiftKey: false, key: 'l' }), false);
  assert.equal(isLeaveKey({ ...key, key: 'Tab' }), false);
  assert.equal(isLeaveKey({ ...key, altKey: true }), false);
});
