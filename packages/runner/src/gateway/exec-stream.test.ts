import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import type { AuditDraft } from '../audit-queue.js';
import type { EnvdClient, SandboxSpec } from '../providers/provider.js';
import {
  sandboxFixture,
  settledCount,
  shell,
  type SandboxFixture,
} from '../providers/sandbox/test-support.js';
import { checkGrant } from './access.js';
import { execRoutes } from './exec-routes.js';
import { startGateway } from './server.js';
import { defaultStreamLimits } from './stream-output.js';
import { eventually, gatewayDeps, pausedStreamClient, zeroWriter } from './stream-test-support.js';

// The exec stream against a real sandbox, with clients that stop reading.
let fixture: SandboxFixture;
let spec: SandboxSpec;
let envd: EnvdClient;
let setup: ReturnType<typeof gatewayDeps>;
let gateway: { url: string; close: () => Promise<void> };
let strict: FastifyInstance;
let strictUrl: string;
const strictLimits = { ...defaultStreamLimits, highWaterBytes: 1024 * 1024, maxStalledMs: 300 };

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec();
  await fixture.provider.start(spec);
  envd = await fixture.provider.connect(spec.environmentId);
  setup = gatewayDeps(fixture.provider, join(fixture.root, 'runner'));
  gateway = await startGateway(setup.deps, { host: '127.0.0.1', port: 0 });
  // The same route with limits a test can reach: stalled for 300 ms means cut off.
  strict = Fastify();
  await strict.register(websocket);
  strict.addHook('onRequest', checkGrant(setup.deps, { kind: 'grant', operation: 'exec' }));
  await strict.register(execRoutes(setup.deps, strictLimits));
  strictUrl = await strict.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await gateway.close();
  await strict.close();
  envd.close();
  await fixture.cleanup();
});

async function writerGone(): Promise<boolean> {
  return (await shell(envd, 'pgrep -f written-coun[t] || echo gone')).trim() === 'gone';
}

/** The exec's last audit record: the one with its outcome. */
function execRecord(): AuditDraft | undefined {
  return setup.audit.findLast(
    (record) => record.action === 'environment.exec' && 'signal' in record.details,
  );
}

test('a paused client holds the command back: output in flight stays under the cap', async (t) => {
  const rssBefore = process.memoryUsage().rss;
  const client = await pausedStreamClient({
    gatewayUrl: gateway.url,
    environmentId: spec.environmentId,
    token: setup.grant(spec.environmentId, ['exec']),
    start: { command: zeroWriter('/workspaces/repo/written-count') },
  });
  try {
    const written = await settledCount(join(spec.workspaceDir, 'written-count'));
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    t.diagnostic(`the command wrote ${written} bytes, then waited; RSS grew ${growthMiB} MiB`);
    assert.ok(
      written < defaultStreamLimits.maxBufferedBytes,
      `at most the cap is ever in flight, not ${written} bytes`,
    );
    assert.equal(await writerGone(), false, 'the command still runs, waiting for the client');
  } finally {
    client.destroy();
  }
  assert.ok(await eventually(writerGone), 'a client that hangs up ends the command');
  assert.ok(await eventually(async () => execRecord() !== undefined), 'the exec is audited');
  setup.audit.length = 0;
});

test('a client stalled past the limit is cut off and its command killed', async () => {
  const client = await pausedStreamClient({
    gatewayUrl: strictUrl,
    environmentId: spec.environmentId,
    token: setup.grant(spec.environmentId, ['exec']),
    start: { command: zeroWriter('/workspaces/repo/written-count') },
  });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  assert.ok(await eventually(async () => !(await writerGone())), 'the command started');
  assert.ok(await eventually(writerGone), 'the command is killed while the client sleeps');
  client.resume();
  await closed;
  assert.ok(await eventually(async () => execRecord() !== undefined));
  assert.equal(execRecord()?.details.signal, 'SIGKILL');
  setup.audit.length = 0;
});

test('input the command does not read holds the client back', async () => {
  const url = `${gateway.url.replace(/^http/, 'ws')}/v1/environments/${spec.environmentId}`;
  const client = new WebSocket(`${url}/exec/stream`, {
    headers: { authorization: `Bearer ${setup.grant(spec.environmentId, ['exec'])}` },
  });
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  const exit = new Promise<Record<string, unknown>>((resolve) =>
    client.on('message', (data, isBinary) => {
      if (!isBinary) resolve(JSON.parse((data as Buffer).toString()) as Record<string, unknown>);
    }),
  );
  client.send(JSON.stringify({ command: ['sh', '-c', 'sleep 1000; echo done'], stdin: true }));
  const chunk = Buffer.concat([Buffer.from([0]), Buffer.alloc(1024 * 1024)]);
  const sentBytes = 128 * chunk.length;
  for (let i = 0; i < 128; i += 1) client.send(chunk);
  let lastBuffered = -1;
  await eventually(async () => {
    const buffered = client.bufferedAmount;
    const stable = buffered === lastBuffered;
    lastBuffered = buffered;
    await new Promise((resolve) => setTimeout(resolve, 200));
    return stable;
  });
  const absorbedBytes = sentBytes - client.bufferedAmount;
  assert.ok(absorbedBytes < 48 * 1024 * 1024, `the runner took only ${absorbedBytes} bytes`);

  await shell(envd, 'pkill -x sleep');
  const message = await exit;
  assert.equal(message.type, 'exit');
  client.terminate();
  setup.audit.length = 0;
});
