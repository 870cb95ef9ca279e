import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startAgentTask } from './agent-start.js';
import { clientFor } from './client.js';
import { agentTaskFixture } from './testing/agent-fixtures.js';

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/**
 * A stand-in control plane and runner gateway on one loopback port: creates the task, grants
 * op agent, and refuses the prompt with 404 `promptMisses` times (a runner that has not heard of
 * the task yet) before it takes it.
 */
async function fakeSystem(options: { promptMisses: number; createStatus?: number }) {
  const seen: Seen[] = [];
  let misses = 0;
  const task = agentTaskFixture('started', 'queued');
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        body,
        headers: request.headers,
      });
      const json = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (request.url === '/v1/agent-tasks') {
        if (options.createStatus) {
          return json(options.createStatus, { code: 'forbidden', message: 'tools: refused' });
        }
        return json(201, {
          ...task,
          promptSha256: (JSON.parse(body) as { promptSha256: string }).promptSha256,
        });
      }
      if (request.url === `/v1/environments/${task.environmentId}/access`) {
        return json(201, {
          token: 'hat1.grant',
          gatewayUrl: url,
          runnerId: task.runnerId,
          operations: ['agent'],
          expiresAt: '2026-12-04T10:05:00.000Z',
        });
      }
      if (request.url === `/v1/agent-tasks/${task.id}/prompt`) {
        if (misses < options.promptMisses) {
          misses += 1;
          return json(404, { code: 'not_found', message: 'not on this runner' });
        }
        return json(202, { accepted: true });
      }
      json(404, { code: 'not_found', message: request.url });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { seen, url, task, close };
}

const prompt = 'Fix the bug in add.js. canary-2f9d';
const request = {
  prompt,
  body: {
    environmentId: 'env_alphaaaaaaaaaaaa',
    model: { api: 'openai' as const, baseUrl: 'http://127.0.0.1:1/v1', model: 'm' },
  },
};

test('start: the control plane gets the digest, the runner gets the prompt', async (t) => {
  const system = await fakeSystem({ promptMisses: 2 });
  t.after(system.close);
  const outcome = await startAgentTask(
    clientFor(system.url, () => 'csrf-1'),
    request,
  );
  assert.equal(outcome.ok && outcome.task.id, system.task.id);
  const create = system.seen.find((call) => call.url === '/v1/agent-tasks');
  assert.ok(create);
  assert.deepEqual(JSON.parse(create.body), {
    ...request.body,
    promptSha256: createHash('sha256').update(prompt).digest('hex'),
  });
  assert.equal(create.headers['x-csrf-token'], 'csrf-1');
  const access = system.seen.find((call) => call.url.endsWith('/access'));
  assert.deepEqual(JSON.parse(access?.body ?? '{}'), { operations: ['agent'] });
  const prompts = system.seen.filter((call) => call.url.endsWith('/prompt'));
  assert.equal(prompts.length, 3, 'tried again while the runner did not know the task');
  assert.deepEqual(JSON.parse(prompts[2]?.body ?? '{}'), { prompt });
  assert.equal(prompts[2]?.headers.authorization, 'Bearer hat1.grant');
  for (const call of system.seen.filter((c) => !c.url.endsWith('/prompt'))) {
    assert.ok(!call.body.includes('canary-2f9d'), `${call.url} never carries the prompt`);
  }
});

test('start: a refused create is reported and nothing reaches the runner', async (t) => {
  const system = await fakeSystem({ promptMisses: 0, createStatus: 403 });
  t.after(system.close);
  const outcome = await startAgentTask(
    clientFor(system.url, () => 'csrf-1'),
    request,
  );
  assert.deepEqual(outcome, { ok: false, message: 'tools: refused' });
  assert.equal(system.seen.length, 1);
});

test('start: a runner that never takes the prompt leaves the task named', async (t) => {
  const system = await fakeSystem({ promptMisses: 1000 });
  t.after(system.close);
  const outcome = await startAgentTask(
    clientFor(system.url, () => 'csrf-1'),
    request,
    {
      retryForMs: 300,
    },
  );
  assert.equal(outcome.ok, false);
  assert.equal(outcome.task?.id, system.task.id);
  assert.match(
    outcome.ok ? '' : outcome.message,
    /the runner did not take the prompt: not on this runner/,
  );
});
