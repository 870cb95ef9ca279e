import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import {
  newId,
  sha256Hex,
  type DesiredAgentTask,
  type RunnerMessage,
  type ServerMessage,
} from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import { Masker } from '../secrets/masker.js';
import type { OpenedSecret } from '../secrets/open.js';
import { SecretStore } from '../secrets/store.js';
import { AgentGrants, TaskGrant } from './grants.js';
import { AgentTaskManager } from './manager.js';
import { modelKeyOf } from './model-key.js';
import { forModel } from './output.js';
import { Transcript } from './transcript.js';

type GrantAnswer = Extract<ServerMessage, { type: 'agent-grant' }>;

/** A control plane connection that records what is sent and answers grants when told. */
class FakeConnection {
  readonly sent: RunnerMessage[] = [];
  connected = true;
  private listener: ((answer: GrantAnswer) => void) | undefined;

  send(message: RunnerMessage): boolean {
    if (!this.connected) return false;
    this.sent.push(message);
    return true;
  }

  on(_event: 'agentGrant', listener: (answer: GrantAnswer) => void): this {
    this.listener = listener;
    return this;
  }

  answer(answer: GrantAnswer): void {
    this.listener?.(answer);
  }
}

function secret(name: string, delivery: OpenedSecret['delivery'], value: string): OpenedSecret {
  return {
    id: newId('sec'),
    name,
    scope: 'org',
    scopeId: '',
    version: 1,
    delivery,
    target: delivery === 'env' ? name : '',
    value: Buffer.from(value),
  };
}

function desiredTask(overrides: Partial<DesiredAgentTask> = {}): DesiredAgentTask {
  return {
    id: newId('agt'),
    orgId: newId('org'),
    ownerId: newId('usr'),
    environmentId: newId('env'),
    desired: 'run',
    promptSha256: sha256Hex('the prompt'),
    kind: 'loop',
    model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm', keySecret: 'MODEL_KEY' },
    tools: ['read_file'],
    limits: { maxSteps: 5, maxTokens: 1000, maxWallTimeS: 60, commandTimeoutS: 10 },
    deniedCommandPatterns: [],
    writablePaths: [],
    egress: { mode: 'none' },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

test('model keys reach the loop and never the environment', () => {
  const store = new SecretStore();
  const key = secret('MODEL_KEY', 'model', 'sk-model-key-value\n');
  store.hold('env_aaaaaaaaaaaa', [key, secret('PLAIN', 'env', 'plain-value')]);
  assert.deepEqual(store.envOf('env_aaaaaaaaaaaa'), { PLAIN: 'plain-value' });
  const task = desiredTask();
  assert.deepEqual(modelKeyOf(store.secretsOf('env_aaaaaaaaaaaa'), task), {
    ok: true,
    value: 'sk-model-key-value',
  });
  const missing = modelKeyOf([secret('MODEL_KEY', 'env', 'x')], task);
  assert.equal(missing.ok, false);
  assert.match(!missing.ok ? missing.message : '', /MODEL_KEY is not delivered .* delivery model/);
  const none = modelKeyOf([], { ...task, model: { ...task.model, keySecret: undefined } });
  assert.deepEqual(none, { ok: true, value: undefined });
  assert.equal(store.masker().maskText('key sk-model-key-value'), 'key ***');
});

test('the transcript is masked, and a follower gets old and new lines once, then the end', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-transcript-'));
  try {
    const masker = new Masker([Buffer.from('hunter22')]);
    const transcript = new Transcript(dir, () => masker);
    transcript.append({ type: 'prompt', text: 'the password is hunter22' });
    await transcript.flush();
    const abort = new AbortController();
    const read = (async () => {
      const lines: string[] = [];
      for await (const line of transcript.lines({ follow: true, signal: abort.signal })) {
        lines.push(line);
      }
      return lines;
    })();
    transcript.append({ type: 'output', text: 'one' });
    transcript.append({ type: 'output', text: 'two' });
    transcript.end();
    const lines = await read;
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /the password is \*\*\*/);
    assert.deepEqual(
      lines.slice(1).map((line) => (JSON.parse(line) as { text: string }).text),
      ['one', 'two'],
    );
    const file = await readFile(transcript.path, 'utf8');
    assert.ok(!file.includes('hunter22'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a task grant is asked for once, refreshed near its expiry, and kept while a refresh fails', async () => {
  let now = 0;
  let asked = 0;
  let fail = false;
  const grants = {
    request: async () => {
      asked += 1;
      if (fail) throw new Error('control plane away');
      return { token: `t${asked}`, expiresAtMs: now + 300_000 };
    },
  };
  const grant = new TaskGrant(grants, 'agt_aaaaaaaaaaaa', () => now);
  assert.equal(await grant.token(), 't1');
  now = 200_000;
  assert.equal(await grant.token(), 't1', 'more than a third of its life left');
  now = 250_000;
  assert.equal(await grant.token(), 't2', 'refreshed near the end');
  fail = true;
  now = 500_000;
  assert.equal(await grant.token(), 't2', 'still valid, so still used');
  now = 600_000;
  await assert.rejects(grant.token(), /control plane away/);
});

test('grant requests are matched to answers, and refused while disconnected', async () => {
  const connection = new FakeConnection();
  const grants = new AgentGrants(connection);
  const pending = grants.request('agt_aaaaaaaaaaaa');
  const sent = connection.sent[0];
  assert.equal(sent?.type, 'agent-grant-request');
  const requestId = sent?.type === 'agent-grant-request' ? sent.requestId : '';
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  connection.answer({ type: 'agent-grant', requestId, ok: true, token: 'tok', expiresAt });
  assert.equal((await pending).token, 'tok');
  const refused = grants.request('agt_aaaaaaaaaaaa');
  const second = connection.sent[1];
  connection.answer({
    type: 'agent-grant',
    requestId: second?.type === 'agent-grant-request' ? second.requestId : '',
    ok: false,
    code: 'conflict',
    message: 'the task was stopped',
  });
  await assert.rejects(refused, /refused the agent a grant: the task was stopped/);
  connection.connected = false;
  await assert.rejects(grants.request('agt_aaaaaaaaaaaa'), { code: 'runner_unavailable' });
});

test('the prompt must be the owner’s and match the digest; a queued task stops at once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-agents-'));
  try {
    const connection = new FakeConnection();
    const audited: AuditDraft[] = [];
    const manager = new AgentTaskManager({
      dataDir: dir,
      audit: { append: async (draft) => audited.push(draft) },
      logger: pino({ level: 'silent' }),
      connection,
      gatewayUrl: () => 'http://127.0.0.1:9',
      environmentRunning: async () => false,
      workspaceFolder: () => '/workspaces/x',
      secretsOf: () => [],
      maskerOf: () => Masker.none,
    });
    const task = desiredTask();
    manager.update(task);
    assert.equal(manager.environmentOf(task.id), task.environmentId);
    const submit = (prompt: string, actorId = task.ownerId) =>
      manager.submitPrompt({
        taskId: task.id,
        prompt,
        actor: { kind: 'user', id: actorId },
        requestId: 'req_aaaaaaaaaaaa',
        sourceAddress: '127.0.0.1',
      });
    await assert.rejects(submit('the prompt', 'usr_someoneelse1'), { code: 'forbidden' });
    await assert.rejects(submit('another prompt'), (error: unknown) => {
      assert.match(String(error), /differs from the task's promptSha256/);
      return true;
    });
    assert.equal(audited[0]?.action, 'agent.prompt.submit');
    assert.equal(audited[0]?.outcome, 'failure');
    assert.ok(!JSON.stringify(audited).includes('another prompt'), 'no prompt in the record');
    await assert.rejects(submit('the prompt'), { code: 'environment_not_running' });
    await assert.rejects(
      manager.submitPrompt({
        taskId: 'agt_notonthisrunner',
        prompt: 'x',
        actor: { kind: 'user', id: task.ownerId },
        requestId: 'r',
        sourceAddress: '',
      }),
      { code: 'not_found' },
    );

    manager.update({ ...task, desired: 'stop' });
    const report = connection.sent.find((message) => message.type === 'agent-status');
    assert.deepEqual(report, {
      type: 'agent-status',
      report: {
        taskId: task.id,
        state: 'cancelled',
        reason: 'stopped',
        steps: 0,
        inputTokens: 0,
        outputTokens: 0,
      },
    });
    manager.replaceAll([{ ...task, desired: 'stop' }]);
    assert.equal(
      connection.sent.filter((message) => message.type === 'agent-status').length,
      2,
      'a final report the control plane may have missed is sent again',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('output for the model keeps its start and end and says what was left out', () => {
  assert.equal(forModel(Buffer.from('short')), 'short');
  const long = Buffer.from(`${'a'.repeat(50_000)}${'b'.repeat(50_000)}END`);
  const shown = forModel(long);
  assert.ok(shown.startsWith('aaaa') && shown.endsWith('bbbEND'));
  assert.match(shown, /bytes left out: the output was 100003 bytes/);
  assert.ok(Buffer.byteLength(shown) < 66 * 1024);
});
