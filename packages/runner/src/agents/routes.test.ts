import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { newId, sha256Hex, type DesiredAgentTask, type RunnerMessage } from '@hangar/api';
import { buildGateway } from '../gateway/server.js';
import { gatewayDeps, testOwnerId } from '../gateway/stream-test-support.js';
import type { Provider } from '../providers/provider.js';
import { Masker } from '../secrets/masker.js';
import { AgentTaskManager } from './manager.js';

// The transcript route at the gateway, in process: whose grant may read a task's transcript.
let dir: string;
let setup: ReturnType<typeof gatewayDeps>;
let app: Awaited<ReturnType<typeof buildGateway>>['app'];
const environmentId = newId('env');
const task: DesiredAgentTask = {
  id: newId('agt'),
  orgId: 'org_streamtest01',
  ownerId: testOwnerId,
  environmentId,
  desired: 'run',
  promptSha256: sha256Hex('the prompt'),
  kind: 'loop',
  model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'm' },
  tools: ['read_file'],
  limits: { maxSteps: 5, maxTokens: 1000, maxWallTimeS: 60, commandTimeoutS: 10 },
  deniedCommandPatterns: [],
  writablePaths: [],
  egress: { mode: 'none' },
  createdAt: new Date().toISOString(),
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-agent-routes-'));
  // No route here reaches an environment: the provider is never asked for one.
  setup = gatewayDeps({} as Provider, join(dir, 'runner'));
  const connection = {
    send: (_message: RunnerMessage) => true,
    on: () => connection,
  };
  const agents = new AgentTaskManager({
    dataDir: dir,
    audit: setup.deps.audit,
    logger: pino({ level: 'silent' }),
    connection,
    gatewayUrl: () => 'http://127.0.0.1:9',
    environmentRunning: async () => false,
    workspaceFolder: () => '/workspaces/repo',
    secretsOf: () => [],
    maskerOf: () => Masker.none,
  });
  agents.update(task);
  ({ app } = await buildGateway({ ...setup.deps, agents }, {}));
});

after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const transcript = (token: string) =>
  app.inject({
    method: 'GET',
    url: `/v1/agent-tasks/${task.id}/transcript`,
    headers: { authorization: `Bearer ${token}` },
  });

test("the task's owner reads its transcript", async () => {
  const read = await transcript(setup.grant(environmentId, ['agent']));
  assert.equal(read.statusCode, 200, read.body);
  assert.match(String(read.headers['content-type']), /application\/x-ndjson/);
});

test('a grant for the environment whose actor is not the owner is refused', async () => {
  const holders = [
    { kind: 'user' as const, id: 'usr_someoneelse1' },
    // The task's own agent acts for the owner, but reads no transcript: only the owner does.
    { kind: 'agent' as const, id: task.id, onBehalfOf: testOwnerId },
    { kind: 'runner' as const, id: 'run_streamtest01' },
  ];
  for (const actor of holders) {
    const refused = await transcript(setup.grant(environmentId, ['agent'], { actor }));
    assert.equal(refused.statusCode, 403, `${actor.kind} ${actor.id}: ${refused.body}`);
    const body = JSON.parse(refused.body) as { code: string; message: string };
    assert.equal(body.code, 'forbidden');
    assert.match(body.message, /only the owner of an agent task may read its transcript/);
  }
});

test('a grant without the agent operation, or for another environment, is refused', async () => {
  const withoutAgent = await transcript(setup.grant(environmentId, ['exec', 'files:read']));
  assert.equal(withoutAgent.statusCode, 403);
  const elsewhere = await transcript(setup.grant(newId('env'), ['agent']));
  assert.equal(elsewhere.statusCode, 403);
  assert.ok(
    setup.audit.some((draft) => draft.action === 'access.denied'),
    'the refused grants are audited',
  );
});

test('a task the runner does not know yet is not_found for a valid grant, which the CLI waits out', async () => {
  const unknown = newId('agt');
  const prompt = await app.inject({
    method: 'POST',
    url: `/v1/agent-tasks/${unknown}/prompt`,
    headers: { authorization: `Bearer ${setup.grant(environmentId, ['agent'])}` },
    payload: { prompt: 'the prompt' },
  });
  assert.equal(prompt.statusCode, 404, prompt.body);
  const body = JSON.parse(prompt.body) as { code: string; message: string };
  assert.equal(body.code, 'not_found');
  assert.match(body.message, new RegExp(`agent task ${unknown} is not on this runner`));
  const anonymous = await app.inject({
    method: 'GET',
    url: `/v1/agent-tasks/${unknown}/transcript`,
  });
  assert.equal(anonymous.statusCode, 401, 'without a grant it is still unauthenticated');
});
