import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Duplex } from 'node:stream';
import type { EnvdClient, ListeningPort, ProcessInfo } from '../provider.js';
import { inside } from './layout.js';
import { waitFor } from './processes.js';
import { sandboxFixture, shell, type SandboxFixture } from './test-support.js';

// Detached processes, terminals, TCP and ports through envd inside one real sandbox.
let fixture: SandboxFixture;
let environmentId: string;
let client: EnvdClient;

before(async () => {
  fixture = sandboxFixture();
  const spec = fixture.spec();
  environmentId = spec.environmentId;
  await fixture.provider.start(spec);
  client = await fixture.provider.connect(environmentId);
});

after(async () => {
  client.close();
  await fixture.cleanup();
});

/** Attaches and gathers the output as text. */
async function watch(id: string, fromOffset?: number) {
  let text = '';
  const attached = await client.attachProcess(id, {
    ...(fromOffset !== undefined ? { fromOffset } : {}),
    onOutput: (chunk) => {
      text += chunk.toString('utf8');
    },
  });
  return { attached, text: () => text };
}

/** Polls an async check every 50 ms until it holds, for at most `rounds` polls. */
async function eventually(check: () => Promise<boolean>, rounds = 200): Promise<boolean> {
  for (let round = 0; round < rounds; round += 1) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function current(id: string): Promise<ProcessInfo | undefined> {
  return (await client.listProcesses()).find((entry) => entry.id === id);
}

test('a terminal shell shows its prompt, and stty size follows a resize', async () => {
  const info = await client.spawnProcess({
    command: ['bash', '--norc', '-i'],
    pty: { cols: 90, rows: 30 },
    env: { PS1: 'hangar-prompt$ ' },
    unattachedGraceMs: 0,
  });
  const terminal = await watch(info.id, 0);
  assert.ok(
    await waitFor(() => terminal.text().includes('hangar-prompt$ '), { timeoutMs: 10_000 }),
  );
  await terminal.attached.write(Buffer.from('stty size; tty; echo "TERM=$TERM"\n'));
  assert.ok(
    await waitFor(() => /30 90\r\n\/dev\/pts\/\d+\r\nTERM=xterm-256color/.test(terminal.text()), {
      timeoutMs: 10_000,
    }),
    terminal.text(),
  );
  terminal.attached.resize(120, 45);
  await terminal.attached.write(Buffer.from('stty size\n'));
  assert.ok(await waitFor(() => terminal.text().includes('45 120'), { timeoutMs: 10_000 }));
  await terminal.attached.write(Buffer.from('exit 4\n'));
  const final = await terminal.attached.done;
  assert.equal(final?.exitCode, 4);
});

test('a detached loop outlives its client; a new client replays what it missed', async () => {
  const info = await client.spawnProcess({
    command: ['sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.05; done'],
    labels: { kind: 'detached' },
  });
  const first = await watch(info.id, 0);
  assert.ok(await waitFor(() => first.text().includes('tick 3\n'), { timeoutMs: 10_000 }));
  first.attached.detach();
  const seen = Buffer.byteLength(first.text());
  const lastSeen = Number(/tick (\d+)\n$/.exec(first.text())?.[1]);

  const other = await fixture.provider.connect(environmentId);
  try {
    assert.ok(
      await eventually(async () => ((await current(info.id))?.outputBytes ?? 0) > seen + 20),
      'it kept printing while nobody was attached',
    );
    let replay = '';
    const second = await other.attachProcess(info.id, {
      fromOffset: seen,
      onOutput: (chunk) => {
        replay += chunk.toString('utf8');
      },
    });
    assert.equal(second.replayedFrom, seen);
    assert.ok(
      await waitFor(() => replay.includes(`tick ${lastSeen + 3}\n`), { timeoutMs: 10_000 }),
    );
    assert.ok(replay.startsWith(`tick ${lastSeen + 1}\n`), 'replay starts where the first left');
    await other.signalProcess(info.id, 'SIGTERM');
    const final = await second.done;
    assert.equal(final?.signal, 'SIGTERM');
    assert.deepEqual(final.labels, { kind: 'detached' });
  } finally {
    other.close();
  }
});

test('a timeout ends a group that ignores SIGTERM', async () => {
  const info = await client.spawnProcess({
    command: ['sh', '-c', 'trap "" TERM; sleep 300 & sleep 301 & wait'],
    timeoutMs: 500,
  });
  const final = await client.waitProcess(info.id);
  assert.equal(final.timedOut, true);
  assert.equal(final.signal, 'SIGKILL');
  assert.ok(
    await eventually(async () => (await shell(client, 'pgrep -x sleep || echo none')) === 'none\n'),
    'no sleep survives',
  );
});

test('unattachedGraceMs 0 ends the process when its client goes away', async () => {
  const info = await client.spawnProcess({
    command: ['bash', '--norc', '-i'],
    pty: { cols: 80, rows: 24 },
    env: { PS1: 'ready$ ' },
    unattachedGraceMs: 0,
  });
  const terminal = await watch(info.id, 0);
  // A bash still starting up may let a hangup pass (then SIGKILL follows after envd's grace), so
  // the client leaves once the prompt shows, as a person would.
  assert.ok(await waitFor(() => terminal.text().includes('ready$ '), { timeoutMs: 10_000 }));
  assert.equal((await current(info.id))?.state, 'running');
  terminal.attached.detach();
  const final = await client.waitProcess(info.id);
  assert.equal(final.signal, 'SIGHUP');
});

test('a signal reaches the whole group', async () => {
  const info = await client.spawnProcess({
    command: ['sh', '-c', 'sleep 200 & sleep 201; wait'],
  });
  assert.ok(
    await eventually(async () => (await shell(client, 'pgrep -x sleep | wc -l')).trim() === '2'),
  );
  // Not SIGINT: a shell that is not interactive starts its background jobs ignoring it.
  await client.signalProcess(info.id, 'SIGTERM');
  const final = await client.waitProcess(info.id);
  assert.equal(final.signal, 'SIGTERM');
  assert.ok(
    await eventually(async () => (await shell(client, 'pgrep -x sleep || echo none')) === 'none\n'),
    'the background sleep got the signal too',
  );
});

/** Reads a TCP stream to its end without destroying it early. */
function readAll(stream: Duplex): Promise<string> {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    stream.once('end', () => resolve(text));
    stream.once('error', reject);
  });
}

test('TCP reaches servers inside; listPorts tells loopback from all addresses', async () => {
  const script =
    'const net = require("net");' +
    'net.createServer((s) => { let got = ""; s.on("data", (d) => (got += d));' +
    ' s.on("end", () => s.end("inside heard: " + got)); }).listen(4100, "127.0.0.1");' +
    'net.createServer((s) => s.end("everywhere")).listen(4101, "0.0.0.0");' +
    'net.createServer((s) => s.end("v6 loopback")).listen(4102, "::1");';
  const server = await client.spawnProcess({
    command: [inside.node, '-e', script],
    unattachedGraceMs: 60_000,
  });
  try {
    let ports: ListeningPort[] = [];
    const listening = async (): Promise<boolean> => {
      ports = (await client.listPorts()).filter((port) => port.port >= 4100 && port.port < 4110);
      return ports.length === 3;
    };
    assert.ok(await eventually(listening), 'the three servers listen');
    const summary = ports.map((port) => ({
      port: port.port,
      address: port.address,
      family: port.family,
      loopbackOnly: port.loopbackOnly,
      command: port.process?.command,
      pid: port.process?.pid === server.pid,
    }));
    assert.deepEqual(summary, [
      {
        port: 4100,
        address: '127.0.0.1',
        family: 'ipv4',
        loopbackOnly: true,
        command: 'node',
        pid: true,
      },
      {
        port: 4101,
        address: '0.0.0.0',
        family: 'ipv4',
        loopbackOnly: false,
        command: 'node',
        pid: true,
      },
      {
        port: 4102,
        address: '::1',
        family: 'ipv6',
        loopbackOnly: true,
        command: 'node',
        pid: true,
      },
    ]);

    const echo = await client.connectTcp(4100);
    const answer = readAll(echo);
    echo.end('hello from the runner');
    assert.equal(await answer, 'inside heard: hello from the runner');
    assert.equal(await readAll(await client.connectTcp(4101, 'localhost')), 'everywhere');
    assert.equal(await readAll(await client.connectTcp(4102, '::1')), 'v6 loopback');
    const hostname = (await shell(client, 'hostname')).trim();
    assert.equal(await readAll(await client.connectTcp(4101, hostname)), 'everywhere');

    await assert.rejects(client.connectTcp(4109), {
      code: 'port_closed',
      message: /nothing listens on 127\.0\.0\.1:4109 inside the environment/,
    });
    await assert.rejects(client.connectTcp(4101, '192.0.2.1'), { code: 'invalid_request' });
  } finally {
    await client.signalProcess(server.id, 'SIGKILL');
    await client.waitProcess(server.id);
  }
});
