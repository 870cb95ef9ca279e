import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import type { ProcessDetail, ProcessInfoBody } from '@hangar/api';
import type { SandboxSpec } from '../providers/provider.js';
import { sandboxFixture, shell, type SandboxFixture } from '../providers/sandbox/test-support.js';
import { startGateway } from './server.js';
import { gatewayDeps } from './stream-test-support.js';

// Durable commands through the gateway, against a real sandbox.
let fixture: SandboxFixture;
let spec: SandboxSpec;
let setup: ReturnType<typeof gatewayDeps>;
let gateway: Awaited<ReturnType<typeof startGateway>>;
let base: string;

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec();
  await fixture.provider.start(spec);
  setup = gatewayDeps(fixture.provider, join(fixture.root, 'runner'));
  gateway = await startGateway(setup.deps, { host: '127.0.0.1', port: 0 });
  base = `${gateway.url}/v1/environments/${spec.environmentId}/processes`;
});

after(async () => {
  await gateway.close();
  await fixture.cleanup();
});

async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; body: T }> {
  const token = options.token ?? setup.grant(spec.environmentId, ['exec']);
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function start(command: string[], extra: Record<string, unknown> = {}) {
  const started = await call<ProcessInfoBody>('POST', '', { body: { command, ...extra } });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body;
}

async function waitExited(id: string): Promise<ProcessInfoBody> {
  for (let round = 0; round < 20; round += 1) {
    const waited = await call<ProcessInfoBody>('GET', `/${id}/wait?timeoutS=5`);
    assert.equal(waited.status, 200, JSON.stringify(waited.body));
    if (waited.body.state === 'exited') return waited.body;
  }
  throw new Error(`process ${id} never exited`);
}

test('a detached command survives its client; its exit code and output tail are read later', async () => {
  const script = 'echo out-$((20+1)); echo err-$((20+2)) >&2; sleep 1; echo last; exit 7';
  const started = await start(['sh', '-c', script]);
  assert.equal(started.state, 'running');
  assert.equal(started.kind, 'command');
  const waited = await call<ProcessInfoBody>('GET', `/${started.id}/wait?timeoutS=0`);
  assert.equal(waited.body.state, 'running', 'timeoutS=0 answers at once');

  const ended = await waitExited(started.id);
  assert.equal(ended.exitCode, 7);
  const detail = await call<ProcessDetail>('GET', `/${started.id}`);
  const tail = Buffer.from(detail.body.outputTail, 'base64').toString();
  assert.equal(tail, 'out-21\nerr-22\nlast\n');
  assert.equal(detail.body.outputTailFrom, 0);
  const short = await call<ProcessDetail>('GET', `/${started.id}?tailBytes=5`);
  assert.equal(Buffer.from(short.body.outputTail, 'base64').toString(), 'last\n');
  assert.equal(short.body.outputTailFrom, detail.body.outputBytes - 5);
  const from = await call<ProcessDetail>('GET', `/${started.id}?fromOffset=14&tailBytes=1000`);
  assert.equal(Buffer.from(from.body.outputTail, 'base64').toString(), 'last\n');
  assert.equal(from.body.outputTailFrom, 14, 'a follower reads on from where it left off');

  const records = setup.audit.filter((record) => record.action === 'environment.process.start');
  assert.deepEqual(
    records.map((record) => record.details.stage),
    ['start', 'spawned'],
  );
  assert.equal(records[1]?.details.process, started.id);
  assert.equal(typeof records[0]?.details.commandSha256, 'string');
  assert.ok(!JSON.stringify(records).includes('out-$'), 'the command text is not audited');
  assert.ok(setup.deps.activity.lastActiveAt(spec.environmentId), 'starting marks activity');
});

test('a caller lists, reads, signals and waits for their own processes only', async () => {
  const started = await start(['sleep', '1000']);
  const other = setup.grant(spec.environmentId, ['exec'], { actorId: 'usr_someoneelse1' });
  const mine = await call<{ processes: ProcessInfoBody[] }>('GET', '');
  assert.ok(mine.body.processes.some((info) => info.id === started.id));
  const theirs = await call<{ processes: ProcessInfoBody[] }>('GET', '', { token: other });
  assert.deepEqual(theirs.body.processes, []);
  assert.equal((await call('GET', `/${started.id}`, { token: other })).status, 404);
  const stolen = await call('POST', `/${started.id}/signal`, {
    token: other,
    body: { signal: 'SIGKILL' },
  });
  assert.equal(stolen.status, 404);
  assert.equal((await call('GET', `/${started.id}/wait?timeoutS=0`, { token: other })).status, 404);

  const signalled = await call<ProcessInfoBody>('POST', `/${started.id}/signal`, {
    body: { signal: 'SIGTERM' },
  });
  assert.equal(signalled.status, 200);
  const ended = await waitExited(started.id);
  assert.equal(ended.signal, 'SIGTERM');
  const record = setup.audit.findLast((entry) => entry.action === 'environment.process.signal');
  assert.equal(record?.details.signal, 'SIGTERM');
  assert.equal(record?.details.process, started.id);
});

test('a command is bounded by its timeout, which kills its whole group', async () => {
  const started = await start(['sh', '-c', '(trap "" TERM; sleep 61) & sleep 61'], {
    timeoutMs: 300,
  });
  const ended = await waitExited(started.id);
  assert.equal(ended.timedOut, true);
  const envd = await fixture.provider.connect(spec.environmentId);
  try {
    const left = await shell(envd, 'ps -eo args | grep -c "[s]leep 61" || true');
    assert.equal(left.trim(), '0', 'nothing of the group is left');
  } finally {
    envd.close();
  }
});

test('a client that drops its attachment leaves the command running', async () => {
  const started = await start(['sh', '-c', 'echo first; sleep 1; echo second']);
  const url = `${base.replace(/^http/, 'ws')}/${started.id}/attach?fromOffset=0`;
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${setup.grant(spec.environmentId, ['exec'])}` },
  });
  await new Promise<void>((resolve) =>
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary && data.subarray(1).toString().includes('first')) resolve();
    }),
  );
  socket.terminate();
  const ended = await waitExited(started.id);
  assert.equal(ended.exitCode, 0);
  const detail = await call<ProcessDetail>('GET', `/${started.id}`);
  assert.equal(Buffer.from(detail.body.outputTail, 'base64').toString(), 'first\nsecond\n');
});

test('attaching replays the output, forwards stdin and ends with the exit', async () => {
  const started = await start(['sh', '-c', 'echo hello; read line; echo "got $line"; exit 4']);
  const url = `${base.replace(/^http/, 'ws')}/${started.id}/attach?fromOffset=0`;
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${setup.grant(spec.environmentId, ['exec'])}` },
  });
  let output = '';
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) output += data.subarray(1).toString();
    else messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    if (output.includes('hello') && !output.includes('got')) {
      socket.send(Buffer.concat([Buffer.from([0]), Buffer.from('world\n')]));
    }
  });
  const code = await new Promise((resolve) => socket.once('close', resolve));
  assert.equal(code, 1000);
  assert.equal(messages[0]?.type, 'ready');
  assert.equal(messages[0]?.replayedFrom, 0);
  assert.equal(output, 'hello\ngot world\n');
  const exit = messages.find((message) => message.type === 'exit');
  assert.equal(exit?.exitCode, 4);
  assert.ok(
    setup.audit.some(
      (record) => record.action === 'session.end' && record.details.kind === 'attach',
    ),
  );
});

test('bad input is refused with the field named', async () => {
  const cases: Array<[unknown, string]> = [
    [{}, 'command'],
    [{ command: [] }, 'command'],
    [{ command: ['true'], timeoutMs: 8 * 24 * 3600 * 1000 }, 'timeoutMs'],
    [{ command: ['true'], detach: true }, 'detach'],
  ];
  for (const [body, field] of cases) {
    const refused = await call<{ code: string; fields: { field: string }[] }>('POST', '', { body });
    assert.equal(refused.status, 400, JSON.stringify(body));
    assert.ok(
      refused.body.fields.some((entry) => entry.field === field),
      JSON.stringify(refused.body),
    );
  }
  const started = await start(['true']);
  const badSignal = await call('POST', `/${started.id}/signal`, { body: { signal: 'SIGBOOM' } });
  assert.equal(badSignal.status, 400);
  assert.equal((await call('GET', `/${started.id}/wait?timeoutS=301`)).status, 400);
  assert.equal((await call('GET', '/not%20an%20id')).status, 400);
  const wrongOp = await call('GET', '', { token: setup.grant(spec.environmentId, ['terminal']) });
  assert.equal(wrongOp.status, 403);
  const elsewhere = await call('GET', '', { token: setup.grant('env_anotherone01', ['exec']) });
  assert.equal(elsewhere.status, 403);
});
