import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HangarError } from '@hangar/api';
import { startEnvdServer, type EnvdServer } from '@hangar/envd/server.js';
import type { EnvdClient } from '../provider.js';
import { createEnvdClient } from './envd-socket-client.js';
import { startFakeEnvd } from './fake-envd.js';
import { procStat, waitFor } from './processes.js';
import { run, settledCount } from './test-support.js';

// envd runs in this process, on the host, so these tests exercise the protocol and the command
// handling quickly; the sandbox tests run the same client against envd inside bubblewrap.
let root: string;
let workspace: string;
let server: EnvdServer;
let client: EnvdClient;
const auth = { environmentId: 'env_client_test', secret: randomBytes(32) };

const node = process.execPath;
const nodeEval = (code: string): string[] => [node, '-e', code];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hangar-envd-client-'));
  workspace = join(root, 'workspace');
  mkdirSync(join(workspace, 'sub'), { recursive: true });
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'tmp'));
  server = await startEnvdServer({
    socketPath: join(root, 'envd.sock'),
    environmentId: auth.environmentId,
    authSecret: auth.secret.toString('hex'),
    workspaceFolder: workspace,
    roots: [workspace, join(root, 'home'), join(root, 'tmp')],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BASE: 'from-config', KEEP: 'config' },
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

test('ping answers', async () => {
  await client.ping();
});

test('binary output and invalid UTF-8 arrive byte for byte, stdout and stderr apart', async () => {
  const all = Buffer.from(Array.from({ length: 256 * 16 }, (_, i) => i % 256));
  const invalid = Buffer.from([
    0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xed, 0xa0, 0x80,
  ]);
  const script =
    `process.stdout.write(Buffer.from(${JSON.stringify([...all])}));` +
    `process.stderr.write(Buffer.from(${JSON.stringify([...invalid])}));`;
  const result = await run(client, nodeEval(script));
  assert.equal(result.outcome.exitCode, 0);
  assert.deepEqual(result.stdout, all);
  assert.deepEqual(result.stderr, invalid);
});

test('a multibyte character split across writes arrives whole', async () => {
  const script =
    'const euro = Buffer.from("\\u20ac", "utf8");' +
    'process.stdout.write(euro.subarray(0, 2));' +
    'setTimeout(() => process.stdout.write(Buffer.concat([euro.subarray(2), euro])), 100);';
  const result = await run(client, nodeEval(script));
  assert.equal(result.stdout.toString('utf8'), '\u20ac\u20ac');
});

test('a single 5 MB line arrives intact', async () => {
  const size = 5 * 1024 * 1024;
  const script = `process.stdout.write("x".repeat(${size}) + "\\n")`;
  const result = await run(client, nodeEval(script));
  assert.equal(result.stdout.length, size + 1);
  const expected = createHash('sha256')
    .update(`${'x'.repeat(size)}\n`)
    .digest('hex');
  assert.equal(createHash('sha256').update(result.stdout).digest('hex'), expected);
});

test('stdin from a buffer and from an async iterable reaches the command', async () => {
  const data = randomBytes(3 * 1024 * 1024);
  const echoed = await run(client, ['cat'], { stdin: data });
  assert.deepEqual(echoed.stdout, data);

  async function* pieces(): AsyncIterable<Buffer> {
    for (let i = 0; i < 5; i += 1) yield Buffer.from(`piece ${i}\n`);
  }
  const counted = await run(client, ['wc', '-l'], { stdin: pieces() });
  assert.equal(counted.stdout.toString().trim(), '5');
  const none = await run(client, ['cat']);
  assert.equal(none.stdout.length, 0, 'without stdin the command reads end of file at once');
});

test('exit codes and signals come back', async () => {
  assert.equal((await run(client, ['sh', '-c', 'exit 42'])).outcome.exitCode, 42);
  const killed = await run(client, ['sh', '-c', 'kill -TERM $$']);
  assert.equal(killed.outcome.exitCode, null);
  assert.equal(killed.outcome.signal, 'SIGTERM');
  const missing = await run(client, ['no-such-command-hangar']);
  assert.equal(missing.outcome.exitCode, 127);
  assert.match(missing.stderr.toString(), /no-such-command-hangar: command not found/);
});

test('a timeout kills the process group, SIGTERM-deaf children too, keeping output', async () => {
  const script = 'trap "" TERM; echo partial; sleep 100 & echo $!; wait';
  const result = await run(client, ['sh', '-c', script], { timeoutMs: 300 });
  assert.equal(result.outcome.timedOut, true);
  assert.equal(result.outcome.signal, 'SIGKILL');
  const [partial, childPid] = result.stdout.toString().trim().split('\n');
  assert.equal(partial, 'partial');
  const pid = Number(childPid);
  assert.ok(
    await waitFor(() => procStat(pid) === undefined || procStat(pid)?.state === 'Z', {
      timeoutMs: 2000,
    }),
    'the background child is dead',
  );
});

test('a background process outlives the command that started it', async () => {
  const started = await run(client, ['sh', '-c', 'sleep 1000 & echo $!']);
  assert.equal(started.outcome.exitCode, 0);
  const pid = Number(started.stdout.toString().trim());
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    assert.equal(procStat(pid)?.state !== undefined && procStat(pid)?.state !== 'Z', true);
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('cwd defaults to the workspace folder, is relative to it, and must exist', async () => {
  assert.equal((await run(client, ['pwd'])).stdout.toString().trim(), workspace);
  assert.equal(
    (await run(client, ['pwd'], { cwd: 'sub' })).stdout.toString().trim(),
    join(workspace, 'sub'),
  );
  await assert.rejects(run(client, ['pwd'], { cwd: 'missing' }), { code: 'invalid_request' });
});

test('the request env adds to and overrides the environment of every command', async () => {
  const result = await run(client, ['sh', '-c', 'echo $BASE $KEEP $EXTRA'], {
    env: { BASE: 'from-request', EXTRA: 'extra' },
  });
  assert.equal(result.stdout.toString(), 'from-request config extra\n');
});

test('aborting ends the command and reports the kill', async () => {
  const controller = new AbortController();
  const pending = run(client, ['sleep', '100'], { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  const result = await pending;
  assert.equal(result.outcome.signal, 'SIGKILL');
  assert.equal(result.outcome.timedOut, false);
  await assert.rejects(client.exec({ command: ['true'], signal: AbortSignal.abort() }));
});

test('files: write, read and list round-trip; errors carry their codes', async () => {
  const data = randomBytes(2 * 1024 * 1024 + 17);
  await client.writeFile('deep/new/file.bin', data, { mode: 0o600 });
  assert.deepEqual(await client.readFile(join(workspace, 'deep/new/file.bin')), data);
  const entries = await client.listDir('deep/new');
  assert.deepEqual(
    entries.map(({ name, type, size, mode }) => ({ name, type, size, mode })),
    [{ name: 'file.bin', type: 'file', size: data.length, mode: 0o600 }],
  );
  await client.writeFile('empty.txt', Buffer.alloc(0));
  assert.equal((await client.readFile('empty.txt')).length, 0);

  const refused = await client.readFile('../../../etc/passwd').catch((error: unknown) => error);
  assert.ok(refused instanceof HangarError);
  assert.equal(refused.code, 'path_outside_environment');
  await assert.rejects(client.writeFile('/etc/hangar-probe', Buffer.from('x')), {
    code: 'path_outside_environment',
  });
  await assert.rejects(client.readFile('nothing-here'), { code: 'not_found' });
  writeFileSync(join(workspace, 'big.txt'), Buffer.alloc(1000));
  await assert.rejects(client.readFile('big.txt', { maxBytes: 999 }), {
    code: 'payload_too_large',
  });
  await assert.rejects(client.listDir('big.txt'), { code: 'invalid_request' });
});

test('a client for a socket nobody listens on says the environment is not running', async () => {
  const lonely = createEnvdClient({ socketPath: join(root, 'nobody.sock'), auth });
  await assert.rejects(lonely.ping(), { code: 'environment_not_running' });
  await assert.rejects(lonely.exec({ command: ['true'] }), { code: 'environment_not_running' });
});

test('close ends what is in flight and refuses new calls', async () => {
  const own = createEnvdClient({ socketPath: server.socketPath, auth });
  const pending = own.exec({ command: ['sleep', '100'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  own.close();
  await assert.rejects(pending, { code: 'internal' });
  await assert.rejects(own.ping(), { code: 'internal' });
});

test('an envd that never answers or speaks nonsense cannot hang the client', async () => {
  const silent = await startFakeEnvd({
    path: join(root, 'silent.sock'),
    answer: { kind: 'proof', auth },
  });
  const babbling = await startFakeEnvd({
    path: join(root, 'babbling.sock'),
    answer: { kind: 'proof', auth },
    onRequest: (socket) => socket.end(Buffer.from([0, 0, 0, 0, 0x7f])),
  });
  try {
    const mute = createEnvdClient({
      socketPath: join(root, 'silent.sock'),
      auth,
      timeoutMs: 100,
      graceMs: 100,
    });
    await assert.rejects(mute.ping(), { code: 'environment_not_running' });
    await assert.rejects(mute.exec({ command: ['true'], timeoutMs: 50 }), {
      code: 'internal',
      message: /did not end the command at its 50 ms timeout/,
    });
    const controller = new AbortController();
    const cancelled = mute.exec({ command: ['true'], signal: controller.signal });
    controller.abort();
    await assert.rejects(cancelled, { code: 'internal' });
    mute.close();
    const nonsense = createEnvdClient({ socketPath: join(root, 'babbling.sock'), auth });
    await assert.rejects(nonsense.ping(), { code: 'internal', message: /protocol error/ });
    nonsense.close();
  } finally {
    await silent.close();
    await babbling.close();
  }
});

test('a consumer that returns a promise holds the command back until it settles', async () => {
  const totalBytes = 32 * 1024 * 1024;
  const countFile = join(root, 'tmp', 'written');
  const script =
    'const fs = require("fs"); const chunk = Buffer.alloc(65536); let n = 0;' +
    `while (n < ${totalBytes}) { fs.writeSync(1, chunk); n += chunk.length;` +
    ` fs.writeFileSync(${JSON.stringify(countFile)}, String(n)); }`;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let receivedBytes = 0;
  let callsWhileHeld = 0;
  let holding = true;
  const pending = client.exec({
    command: nodeEval(script),
    onStdout: (chunk) => {
      receivedBytes += chunk.length;
      if (!holding) return undefined;
      callsWhileHeld += 1;
      return held;
    },
  });
  const written = await settledCount(countFile, 100);
  assert.ok(written < totalBytes / 2, `the command stopped after ${written} bytes`);
  assert.equal(callsWhileHeld, 1, 'nothing more reached the consumer while it was busy');
  holding = false;
  release();
  const outcome = await pending;
  assert.equal(outcome.exitCode, 0);
  assert.equal(receivedBytes, totalBytes);
});
