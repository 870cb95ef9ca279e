import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEnvdServer, type EnvdServer } from '@hangar/envd/server.js';
import { encodeJsonFrame, encodeOutput, FrameType } from '@hangar/envd/protocol.js';
import type { EnvdClient, ProcessInfo, ProcessStream } from '../provider.js';
import { createEnvdClient } from './envd-socket-client.js';
import { startFakeEnvd } from './fake-envd.js';
import { procStat, waitFor } from './processes.js';
import { settledCount } from './test-support.js';

// Detached processes and terminals through the real client and envd, both in this process on the
// host; sandbox-processes.test.ts runs the same inside bubblewrap.
let root: string;
let server: EnvdServer;
let client: EnvdClient;
const auth = { environmentId: 'env_processes_client', secret: randomBytes(32) };
const node = process.execPath;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hangar-envd-processes-'));
  mkdirSync(join(root, 'workspace'));
  server = await startEnvdServer({
    socketPath: join(root, 'envd.sock'),
    environmentId: auth.environmentId,
    authSecret: auth.secret.toString('hex'),
    workspaceFolder: join(root, 'workspace'),
    roots: [join(root, 'workspace')],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    killGraceMs: 200,
    outputQuietMs: 200,
  });
  client = createEnvdClient({ socketPath: server.socketPath, auth });
});

after(async () => {
  client.close();
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

interface Received {
  stream: ProcessStream;
  offset: number;
  text: string;
}

/** Attaches and keeps every chunk with its stream and offset. */
async function collect(id: string, fromOffset?: number) {
  const chunks: Received[] = [];
  const attached = await client.attachProcess(id, {
    ...(fromOffset !== undefined ? { fromOffset } : {}),
    onOutput: (chunk, stream, offset) =>
      void chunks.push({ stream, offset, text: chunk.toString() }),
  });
  const text = (): string => chunks.map((chunk) => chunk.text).join('');
  return { attached, chunks, text };
}

function alive(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== 'Z';
}

test('a spawned command runs on its own; an attach replays it, streams and offsets', async () => {
  const info = await client.spawnProcess({
    command: ['sh', '-c', 'echo one; echo two >&2; echo three'],
    labels: { kind: 'detached', actor: 'usr_1' },
  });
  assert.match(info.id, /^prc_[0-9a-z]{16}$/);
  assert.equal(info.state, 'running');
  assert.deepEqual(info.labels, { kind: 'detached', actor: 'usr_1' });
  const final = await client.waitProcess(info.id);
  assert.equal(final.state, 'exited');
  assert.equal(final.exitCode, 0);
  assert.equal(final.outputBytes, 14);
  assert.ok(final.endedAt !== null && final.endedAt >= final.startedAt);

  const { attached, chunks } = await collect(info.id, 0);
  assert.equal(attached.replayedFrom, 0);
  assert.deepEqual(await attached.done, final, 'an exited process ends the attach at once');
  const byStream = (stream: ProcessStream): string =>
    chunks
      .filter((chunk) => chunk.stream === stream)
      .map((chunk) => chunk.text)
      .join('');
  assert.equal(byStream('stdout'), 'one\nthree\n');
  assert.equal(byStream('stderr'), 'two\n');
  let offset = 0;
  for (const chunk of chunks) {
    assert.equal(chunk.offset, offset, 'offsets count every byte once');
    offset += Buffer.byteLength(chunk.text);
  }
  const listed = await client.listProcesses();
  assert.deepEqual(
    listed.find((entry) => entry.id === info.id),
    final,
  );
});

test('a detached loop keeps running; a second attach replays what it missed', async () => {
  const info = await client.spawnProcess({
    command: [
      'sh',
      '-c',
      'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); sleep 0.01; done',
    ],
  });
  const first = await collect(info.id, 0);
  assert.ok(await waitFor(() => first.text().includes('line 5\n'), { timeoutMs: 10_000 }));
  first.attached.detach();
  assert.equal(await first.attached.done, undefined, 'detaching resolves done with nothing');
  const seen = Buffer.byteLength(first.text());
  await assert.rejects(first.attached.write(Buffer.from('x')), { code: 'conflict' });

  assert.ok(
    await waitFor(() => false, { timeoutMs: 300 }).then(async () => {
      const now = (await client.listProcesses()).find((entry) => entry.id === info.id);
      return (now?.outputBytes ?? 0) > seen && now?.state === 'running';
    }),
    'it went on printing with nobody attached',
  );
  const second = await collect(info.id, seen);
  assert.equal(second.attached.replayedFrom, seen);
  assert.ok(await waitFor(() => second.text().includes('line 40\n'), { timeoutMs: 10_000 }));
  assert.ok(second.text().startsWith(`line ${first.text().split('\n').length - 1}\n`));
  assert.equal(second.chunks[0]?.offset, seen);
  await client.signalProcess(info.id, 'SIGTERM');
  const final = await second.attached.done;
  assert.equal(final?.signal, 'SIGTERM');
});

test('several clients attach at once and each gets all of the output', async () => {
  const info = await client.spawnProcess({ command: ['sh', '-c', 'read go; seq 1 2000'] });
  const one = await collect(info.id);
  const two = await collect(info.id);
  await one.attached.write(Buffer.from('go\n'));
  const [doneOne, doneTwo] = await Promise.all([one.attached.done, two.attached.done]);
  assert.equal(doneOne?.exitCode, 0);
  assert.deepEqual(doneOne, doneTwo);
  const expected = `${Array.from({ length: 2000 }, (_, i) => i + 1).join('\n')}\n`;
  assert.equal(one.text(), expected);
  assert.equal(two.text(), expected);
});

test('a slow attached reader holds the process back', async () => {
  const countFile = join(root, 'written');
  const totalBytes = 16 * 1024 * 1024;
  const script =
    'const fs = require("fs"); const chunk = Buffer.alloc(65536); let n = 0;' +
    `while (n < ${totalBytes}) { fs.writeSync(1, chunk); n += chunk.length;` +
    ` fs.writeFileSync(${JSON.stringify(countFile)}, String(n)); }`;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = true;
  let received = 0;
  const writer = await client.spawnProcess({
    command: ['sh', '-c', `read go; exec ${node} -e '${script}'`],
  });
  const attached = await client.attachProcess(writer.id, {
    onOutput: (chunk) => {
      received += chunk.length;
      return holding ? held : undefined;
    },
  });
  await attached.write(Buffer.from('go\n'));
  const written = await settledCount(countFile, 100);
  assert.ok(written < totalBytes / 2, `the writer stopped after ${written} bytes`);
  holding = false;
  release();
  const final = await attached.done;
  assert.equal(final?.exitCode, 0);
  assert.equal(received, totalBytes, 'nothing was dropped for the reader that was attached');
});

test('a timeout ends the whole group, children deaf to SIGTERM included', async () => {
  const info = await client.spawnProcess({
    command: ['sh', '-c', 'trap "" TERM; sleep 100 & echo $!; wait'],
    timeoutMs: 300,
  });
  const { attached, text } = await collect(info.id, 0);
  const final = await attached.done;
  assert.equal(final?.timedOut, true);
  assert.equal(final.signal, 'SIGKILL');
  const child = Number(text().trim());
  assert.ok(await waitFor(() => !alive(child), { timeoutMs: 5000 }), 'the child is gone');
});

test('unattachedGraceMs 0 ends the process when its last client detaches', async () => {
  const info = await client.spawnProcess({ command: ['sleep', '100'], unattachedGraceMs: 0 });
  const one = await collect(info.id);
  const two = await collect(info.id);
  one.attached.detach();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await client.listProcesses()).find((p) => p.id === info.id)?.state, 'running');
  two.attached.detach();
  const final = await client.waitProcess(info.id);
  assert.equal(final.signal, 'SIGHUP');
  assert.equal(final.timedOut, false);
});

test('signals go to the group, are checked, and unknown ids are not found', async () => {
  const info = await client.spawnProcess({ command: ['sh', '-c', 'sleep 100; exit 0'] });
  await assert.rejects(client.signalProcess(info.id, 'SIGSEGV'), {
    code: 'invalid_request',
    message: /signal must be one of/,
  });
  await client.signalProcess(info.id, 'SIGINT');
  const final = await client.waitProcess(info.id);
  assert.equal(final.signal, 'SIGINT');
  await assert.rejects(client.signalProcess(info.id, 'SIGTERM'), { code: 'conflict' });
  const unknown = 'prc_zzzzzzzzzzzzzzzz';
  await assert.rejects(client.signalProcess(unknown, 'SIGTERM'), { code: 'not_found' });
  await assert.rejects(client.waitProcess(unknown), { code: 'not_found' });
  await assert.rejects(client.attachProcess(unknown, { onOutput: () => undefined }), {
    code: 'not_found',
  });
  await assert.rejects(client.spawnProcess({ command: [] }), { code: 'invalid_request' });
  await assert.rejects(client.spawnProcess({ command: ['no-such-program-hangar'] }), {
    code: 'invalid_request',
    message: /command not found/,
  });
});

test('waiting can be abandoned without touching the process', async () => {
  const info = await client.spawnProcess({ command: ['sleep', '100'] });
  const controller = new AbortController();
  const waiting = client.waitProcess(info.id, { signal: controller.signal });
  controller.abort(new Error('gave up'));
  await assert.rejects(waiting, { message: 'gave up' });
  assert.equal((await client.listProcesses()).find((p) => p.id === info.id)?.state, 'running');
  await client.signalProcess(info.id, 'SIGKILL');
  assert.equal((await client.waitProcess(info.id)).signal, 'SIGKILL');
});

test('a terminal: one stream, a size that follows resize, ^D on closeInput', async () => {
  const info = await client.spawnProcess({
    command: ['sh'],
    pty: { cols: 80, rows: 24, term: 'vt100' },
    env: { PS1: 'ready> ' },
  });
  assert.equal(info.pty, true);
  const session = await collect(info.id, 0);
  await session.attached.write(Buffer.from('stty size; echo "term=$TERM"\n'));
  assert.ok(await waitFor(() => /24 80\r\nterm=vt100/.test(session.text()), { timeoutMs: 5000 }));
  session.attached.resize(132, 50);
  assert.throws(() => session.attached.resize(0, 50), { code: 'invalid_request' });
  await session.attached.write(Buffer.from('stty size\n'));
  assert.ok(await waitFor(() => session.text().includes('50 132'), { timeoutMs: 5000 }));
  session.attached.closeInput();
  const final = await session.attached.done;
  assert.equal(final?.exitCode, 0);
  assert.ok(session.chunks.every((chunk) => chunk.stream === 'pty'));
});

test('an onOutput that throws ends the attach with its error; the process runs on', async () => {
  const info = await client.spawnProcess({ command: ['sh', '-c', 'echo hi; sleep 100'] });
  const attached = await client.attachProcess(info.id, {
    fromOffset: 0,
    onOutput: () => {
      throw new Error('consumer broke');
    },
  });
  await assert.rejects(attached.done, { message: 'consumer broke' });
  assert.equal((await client.listProcesses()).find((p) => p.id === info.id)?.state, 'running');
  await client.signalProcess(info.id, 'SIGKILL');
  await client.waitProcess(info.id);
});

test('answers from a socket that is not a well-behaved envd are refused', async () => {
  const info: ProcessInfo = {
    id: 'prc_0123456789abcdef',
    command: ['sh'],
    pty: false,
    pid: 10,
    startedAt: new Date().toISOString(),
    state: 'running',
    exitCode: null,
    signal: null,
    timedOut: false,
    endedAt: null,
    outputBytes: 100,
    labels: {},
  };
  const answers = [
    { name: 'bad pid', frames: [encodeJsonFrame(FrameType.result, { ...info, pid: -1 })] },
    {
      name: 'too many labels',
      frames: [
        encodeJsonFrame(FrameType.result, {
          ...info,
          labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
        }),
      ],
    },
    {
      name: 'replay past the end',
      frames: [encodeJsonFrame(FrameType.result, { replayedFrom: 101, process: info })],
    },
    {
      name: 'output going backwards',
      frames: [
        encodeJsonFrame(FrameType.result, { replayedFrom: 50, process: info }),
        encodeOutput('stdout', 40, Buffer.from('x')),
      ],
    },
    {
      name: 'terminal output for a process on pipes',
      frames: [
        encodeJsonFrame(FrameType.result, { replayedFrom: 50, process: info }),
        encodeOutput('pty', 50, Buffer.from('x')),
      ],
    },
  ];
  for (const [index, answer] of answers.entries()) {
    const path = join(root, `fake-${index}.sock`);
    const fake = await startFakeEnvd({
      path,
      answer: { kind: 'proof', auth },
      onRequest: (socket) => {
        for (const frame of answer.frames) socket.write(frame);
      },
    });
    const lying = createEnvdClient({ socketPath: path, auth });
    try {
      if (index < 2) {
        await assert.rejects(
          lying.spawnProcess({ command: ['sh'] }),
          {
            code: 'internal',
            message: /protocol error/,
          },
          answer.name,
        );
      } else {
        const outcome = lying
          .attachProcess(info.id, { onOutput: () => undefined })
          .then((attached) => attached.done);
        await assert.rejects(outcome, { code: 'internal', message: /protocol error/ }, answer.name);
      }
    } finally {
      lying.close();
      await fake.close();
    }
  }
});
