import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OUTPUT_BUFFER_BYTES } from './processes.js';
import {
  CHALLENGE_NONCE_BYTES,
  decodeJson,
  decodeOutput,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  type AttachResult,
  type Frame,
  type ProcessInfoBody,
  type ProcessListBody,
} from './protocol.js';
import { startEnvdServer, type EnvdServer } from './server.js';

// envd on the host, spoken to frame by frame: what the runner's client never sends is tested here.
let base: string;
let server: EnvdServer;
const environmentId = 'env_processes_test';
const secret = randomBytes(32);

before(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'hangar-envd-processes-')));
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

/** One connection past the challenge: frames in arrival order, and whether envd ended it. */
interface Peer {
  socket: Socket;
  next(): Promise<Frame>;
  /** Every frame until envd ends the connection. */
  rest(): Promise<Frame[]>;
}

async function peer(request: Buffer): Promise<Peer> {
  const socket = createConnection(server.socketPath);
  const decoder = new FrameDecoder();
  const queue: Frame[] = [];
  const waiters: Array<() => void> = [];
  let ended = false;
  const wake = (): void => {
    for (const waiter of waiters.splice(0)) waiter();
  };
  socket.on('data', (chunk: Buffer) => {
    queue.push(...decoder.push(chunk));
    wake();
  });
  socket.on('end', () => {
    ended = true;
    socket.end();
    wake();
  });
  socket.on('error', () => undefined);
  const next = async (): Promise<Frame> => {
    for (;;) {
      const frame = queue.shift();
      if (frame) return frame;
      if (ended) throw new Error('envd ended the connection');
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const rest = async (): Promise<Frame[]> => {
    while (!ended) await new Promise<void>((resolve) => waiters.push(resolve));
    return queue.splice(0);
  };
  socket.write(encodeFrame(FrameType.challenge, randomBytes(CHALLENGE_NONCE_BYTES)));
  assert.equal((await next()).type, FrameType.proof);
  socket.write(request);
  return { socket, next, rest };
}

async function answer(request: Buffer): Promise<Frame[]> {
  return (await peer(request)).rest();
}

function errorOf(frames: Frame[]): { code: string; message: string } {
  const last = frames.at(-1);
  assert.equal(last?.type, FrameType.error, 'the exchange ends with an error frame');
  return decodeJson(last) as { code: string; message: string };
}

async function spawn(body: object): Promise<ProcessInfoBody> {
  const [result] = await answer(encodeJsonFrame(FrameType.spawn, body));
  assert.equal(result?.type, FrameType.result);
  return decodeJson(result) as ProcessInfoBody;
}

async function listed(id: string): Promise<ProcessInfoBody | undefined> {
  const frames = await answer(encodeFrame(FrameType.listProcesses));
  assert.equal(frames.at(-1)?.type, FrameType.dataEnd);
  const json = Buffer.concat(frames.slice(0, -1).map((frame) => frame.payload)).toString();
  return (JSON.parse(json) as ProcessListBody).processes.find((info) => info.id === id);
}

const id = 'prc_0000000000000000';

test('requests about processes are refused with the code and field', async () => {
  const unknown = errorOf(await answer(encodeJsonFrame(FrameType.attach, { id })));
  assert.equal(unknown.code, 'not_found');
  assert.match(unknown.message, /no process prc_0000000000000000/);
  const waitUnknown = errorOf(await answer(encodeJsonFrame(FrameType.wait, { id })));
  assert.equal(waitUnknown.code, 'not_found');
  const badSignal = errorOf(
    await answer(encodeJsonFrame(FrameType.signal, { id, signal: 'SIGSEGV' })),
  );
  assert.equal(badSignal.code, 'invalid_request');
  assert.match(badSignal.message, /^signal: signal must be one of SIGHUP/);
  const extra = errorOf(
    await answer(encodeJsonFrame(FrameType.spawn, { command: ['true'], x: 1 })),
  );
  assert.match(extra.message, /^spawn: x is not a known field/);
  const missing = errorOf(await answer(encodeJsonFrame(FrameType.spawn, { command: ['nope-x'] })));
  assert.equal(missing.code, 'invalid_request');
  assert.match(missing.message, /nope-x: command not found in the environment's PATH/);
  const notJson = errorOf(await answer(encodeFrame(FrameType.attach, Buffer.from('{'))));
  assert.equal(notJson.code, 'invalid_request');
});

test('an attached client may send input, its end and sizes, and nothing else', async () => {
  const info = await spawn({ command: ['cat'] });
  const attached = await peer(encodeJsonFrame(FrameType.attach, { id: info.id }));
  assert.equal((await attached.next()).type, FrameType.result);
  attached.socket.write(encodeJsonFrame(FrameType.resize, { cols: 0, rows: 1 }));
  const error = errorOf(await attached.rest());
  assert.match(error.message, /^resize: cols must be a whole number/);

  const again = await peer(encodeJsonFrame(FrameType.attach, { id: info.id }));
  assert.equal((await again.next()).type, FrameType.result);
  again.socket.write(encodeFrame(FrameType.stdin, Buffer.from('echoed\n')));
  const output = decodeOutput(await again.next());
  assert.deepEqual(output, { stream: 'stdout', offset: 0, bytes: Buffer.from('echoed\n') });
  again.socket.write(encodeFrame(FrameType.ping));
  assert.match(errorOf(await again.rest()).message, /^attach: unexpected frame 0x1/);
  assert.equal((await listed(info.id))?.state, 'running', 'a client that broke the rules left');

  const last = await peer(encodeJsonFrame(FrameType.attach, { id: info.id, fromOffset: 0 }));
  assert.equal((await last.next()).type, FrameType.result);
  assert.equal(decodeOutput(await last.next()).bytes.toString(), 'echoed\n', 'replayed');
  last.socket.write(encodeFrame(FrameType.stdinEnd));
  const [exited] = await last.rest();
  assert.equal(exited?.type, FrameType.exited);
  assert.equal((decodeJson(exited) as ProcessInfoBody).exitCode, 0);
});

test('a reader asking for output already dropped is told where replay really starts', async () => {
  const size = 3 * OUTPUT_BUFFER_BYTES;
  const info = await spawn({
    command: ['sh', '-c', `head -c ${size} /dev/zero; sleep 100`],
  });
  for (let round = 0; round < 500 && ((await listed(info.id))?.outputBytes ?? 0) < size; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const attached = await peer(encodeJsonFrame(FrameType.attach, { id: info.id, fromOffset: 10 }));
  const result = decodeJson(await attached.next()) as AttachResult;
  assert.equal(result.process.outputBytes, size);
  assert.equal(result.replayedFrom, size - OUTPUT_BUFFER_BYTES);
  let expected = result.replayedFrom;
  while (expected < size) {
    const output = decodeOutput(await attached.next());
    assert.equal(output.offset, expected, 'replay is contiguous');
    expected += output.bytes.length;
  }
  const signal = await answer(
    encodeJsonFrame(FrameType.signal, { id: info.id, signal: 'SIGKILL' }),
  );
  assert.equal(signal[0]?.type, FrameType.result);
  const [exited] = await attached.rest();
  assert.equal(exited?.type, FrameType.exited);
  assert.equal((decodeJson(exited) as ProcessInfoBody).signal, 'SIGKILL');
});

test('tcpConnect: a closed port and a far host are refused before any byte moves', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const closed = errorOf(await answer(encodeJsonFrame(FrameType.tcpConnect, { port })));
  assert.equal(closed.code, 'port_closed');
  assert.match(closed.message, new RegExp(`nothing listens on 127\\.0\\.0\\.1:${port}`));
  const far = errorOf(
    await answer(encodeJsonFrame(FrameType.tcpConnect, { host: '192.0.2.1', port: 80 })),
  );
  assert.equal(far.code, 'invalid_request');
  const badPort = errorOf(await answer(encodeJsonFrame(FrameType.tcpConnect, { port: 0 })));
  assert.match(badPort.message, /^tcpConnect: port must be/);
});
