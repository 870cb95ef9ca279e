import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentTask, AuditRecord, Environment, ErrorBody } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import {
  createdTask,
  createTask,
  desiredTask,
  sha256Hex,
  taskPushed,
  testModel,
  waitForState,
} from '../testing/agent-tasks.js';
import { runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { putSecret, testAuthor } from '../testing/secrets.js';
import { addUser } from '../testing/users.js';

async function setPolicy(t: TestControlPlane, body: Record<string, unknown>) {
  const response = await t.request<ErrorBody>('PATCH', '/v1/org/policy', { body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

/** Asserts a refusal of `status` whose body names `field` among its fields. */
function assertNames(
  response: { status: number; body: ErrorBody },
  status: number,
  field: string,
): void {
  const text = JSON.stringify(response.body);
  assert.equal(response.status, status, text);
  assert.ok(
    response.body.fields?.some((item) => item.field === field),
    `no ${field}: ${text}`,
  );
  assert.match(response.body.message, new RegExp(field.replace('.', '\\.')), text);
}

function assertPolicy(response: { status: number; body: ErrorBody }, policy: string): void {
  const text = JSON.stringify(response.body);
  assert.equal(response.status, 403, text);
  assert.equal(response.body.policy, policy, text);
  assert.match(response.body.message, new RegExp(policy.replace('.', '\\.')), text);
}

/** A member of the owner's organization with an environment of their own on the runner. */
async function memberWithEnvironment(t: TestControlPlane) {
  const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
  const created = await t.request<Environment>('POST', '/v1/environments', {
    token: member.token,
    body: {},
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { member, environment: created.body };
}

for (const backend of testBackends()) {
  describe(`agent tasks on ${backend.kind}`, () => {
    test('a task in your environment is stored, audited by digest and pushed', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        await setPolicy(t, {
          agents: { deniedCommandPatterns: ['rm\\s+-rf'], writablePaths: ['src/**'] },
          egress: { agents: { mode: 'allowlist', allow: [{ host: 'pypi.example.internal' }] } },
        });
        const digest = sha256Hex('a canary prompt 7f3e');
        const task = await createdTask(t, {
          environmentId: environment.id,
          promptSha256: digest,
          limits: { maxSteps: 7 },
        });
        assert.equal(task.state, 'queued');
        assert.equal(task.environmentId, environment.id);
        assert.equal(task.ownerId, t.owner.userId);
        assert.equal(task.model, 'test-model');
        assert.equal(task.kind, 'loop');
        assert.equal(task.tools.length, 7, 'all tools by default');
        assert.deepEqual(task.limits, {
          maxSteps: 7,
          maxTokens: 500000,
          maxWallTimeS: 3600,
          commandTimeoutS: 600,
        });
        assert.match(task.id, /^agt_/);

        const pushed = await taskPushed(runner, task.id, 'run');
        assert.equal(pushed.task.promptSha256, digest);
        assert.deepEqual(pushed.task.deniedCommandPatterns, ['rm\\s+-rf']);
        assert.deepEqual(pushed.task.writablePaths, ['src/**']);
        assert.equal(pushed.task.egress.mode, 'allowlist');
        assert.deepEqual(pushed.task.model, testModel);

        const [created] = await auditOf(t, 'agent.task.create');
        assert.equal(created?.target?.id, task.id);
        assert.equal(created?.details.promptSha256, digest);
        assert.equal(created?.details.model, 'test-model');
        assert.equal(created?.details.maxSteps, 7);
        assert.match(String(created?.details.tools), /run_command/);

        const again = await t.request<AgentTask>('GET', `/v1/agent-tasks/${task.id}`);
        assert.deepEqual(again.body, task);
      } finally {
        await t.close();
      }
    });

    test('a task with a repository gets a fresh environment from the create service', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await runningEnvironment(t);
        const task = await createdTask(t, {
          repository: { url: 'https://git.example.test/acme/api.git' },
          class: 'small',
          name: 'agent-api',
        });
        const environment = await t.request<Environment>(
          'GET',
          `/v1/environments/${task.environmentId}`,
        );
        assert.equal(environment.body.name, 'agent-api');
        assert.equal(environment.body.ownerId, t.owner.userId);
        assert.equal(
          environment.body.spec.repository?.url,
          'https://git.example.test/acme/api.git',
        );
        assert.equal(task.runnerId, runner.runnerId);
        const made = await auditOf(t, 'environment.create');
        assert.ok(made.some((record) => record.target?.id === task.environmentId));
        assert.ok(desiredTask(runner, task.id) ?? (await taskPushed(runner, task.id, 'run')));

        await setPolicy(t, { allowedRepositoryPatterns: ['https://git.example.test/acme/*'] });
        const refused = await createTask(t, {
          repository: { url: 'https://git.example.test/other/api.git' },
        });
        assertPolicy(refused, 'allowedRepositoryPatterns');
        const both = await createTask(t, {
          environmentId: task.environmentId,
          repository: { url: 'https://git.example.test/acme/api.git' },
        });
        assertNames(both, 400, 'repository');
        const neither = await createTask(t, {});
        assertNames(neither, 400, 'environmentId');
        const readOnly = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'member',
          scopes: ['environments:exec', 'environments:read'],
        });
        const noWrite = await createTask(
          t,
          { repository: { url: 'https://git.example.test/acme/api.git' } },
          readOnly.token,
        );
        assert.equal(noWrite.status, 403, JSON.stringify(noWrite.body));
        assert.match(noWrite.body.message, /environments:write/);
      } finally {
        await t.close();
      }
    });

    test('the model comes from the task or the policy, and must be an http(s) URL', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const body = { environmentId: environment.id };
        const missing = await createTask(t, { ...body, model: undefined });
        assertNames(missing, 400, 'model');
        const ftp = await createTask(t, { ...body, model: { ...testModel, baseUrl: 'ftp://x/' } });
        assertNames(ftp, 400, 'model.baseUrl');
        const badPolicy = await t.request<ErrorBody>('PATCH', '/v1/org/policy', {
          body: { agents: { model: { ...testModel, baseUrl: 'file:///etc/passwd' } } },
        });
        assertNames(badPolicy, 400, 'agents.model.baseUrl');
        await setPolicy(t, { agents: { model: { ...testModel, model: 'org-model' } } });
        const fromPolicy = await createdTask(t, { ...body, model: undefined });
        assert.equal(fromPolicy.model, 'org-model');
      } finally {
        await t.close();
      }
    });

    test('tools are narrowed by agents.allowedTools, and limits are checked', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const body = { environmentId: environment.id };
        await setPolicy(t, { agents: { allowedTools: ['read_file', 'list_directory', 'finish'] } });
        const narrowed = await createdTask(t, body);
        assert.deepEqual(narrowed.tools, ['read_file', 'list_directory', 'finish']);
        const asked = await createdTask(t, { ...body, tools: ['finish', 'read_file'] });
        assert.deepEqual(asked.tools, ['read_file', 'finish']);
        const refused = await createTask(t, { ...body, tools: ['read_file', 'run_command'] });
        assertPolicy(refused, 'agents.allowedTools');
        assert.match(refused.body.message, /run_command/);
        const command = await createTask(t, {
          ...body,
          command: { argv: ['aider', '--yes'], prompt: 'stdin' },
        });
        assertPolicy(command, 'agents.allowedTools');

        for (const [field, value] of [
          ['maxSteps', 0],
          ['maxTokens', 10],
          ['maxWallTimeS', 700000],
          ['commandTimeoutS', 0],
        ] as const) {
          const response = await createTask(t, { ...body, limits: { [field]: value } });
          assert.equal(response.status, 400, JSON.stringify(response.body));
          assert.ok(
            response.body.fields?.some((item) => item.field === `limits.${field}`),
            JSON.stringify(response.body),
          );
        }
        const unknown = await createTask(t, { ...body, tools: ['curl'] });
        assert.equal(unknown.status, 400);
        const badPattern = await t.request<ErrorBody>('PATCH', '/v1/org/policy', {
          body: { agents: { deniedCommandPatterns: ['(unclosed'] } },
        });
        assertNames(badPattern, 400, 'agents.deniedCommandPatterns.0');
        const badPath = await t.request<ErrorBody>('PATCH', '/v1/org/policy', {
          body: { agents: { writablePaths: ['src/**', '../outside'] } },
        });
        assertNames(badPath, 400, 'agents.writablePaths.1');
        assert.equal(desiredTask(runner, refused.body.id ?? 'none'), undefined);
      } finally {
        await t.close();
      }
    });

    test("another member's environment is not found, nor one of another organization", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const theirs = await createTask(t, { environmentId: environment.id }, member.token);
        assert.equal(theirs.status, 404, JSON.stringify(theirs.body));
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const asAdmin = await createTask(t, { environmentId: environment.id }, admin.token);
        assert.equal(asAdmin.status, 404, JSON.stringify(asAdmin.body));
        const outsider = await addUser(t.cp.context, { role: 'owner' });
        const foreign = await createTask(t, { environmentId: environment.id }, outsider.token);
        assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
        const auditor = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'auditor' });
        const read = await createTask(t, { environmentId: environment.id }, auditor.token);
        assert.equal(read.status, 403);
        const stop = await t.request('POST', `/v1/environments/${environment.id}/stop`);
        assert.equal(stop.status, 202);
        const stopped = await createTask(t, { environmentId: environment.id });
        assert.equal(stopped.status, 409, JSON.stringify(stopped.body));
        assert.equal(stopped.body.code, 'environment_not_running');
      } finally {
        await t.close();
      }
    });

    test('agents.maxRunningPerUser and maxRunningPerOrg count unended tasks', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const body = { environmentId: environment.id };
        await setPolicy(t, { agents: { maxRunningPerUser: 1, maxRunningPerOrg: 2 } });
        const first = await createdTask(t, body);
        const second = await createTask(t, body);
        assertPolicy(second, 'agents.maxRunningPerUser');
        const fresh = await createTask(t, {
          repository: { url: 'https://git.example.test/acme/api.git' },
        });
        assertPolicy(fresh, 'agents.maxRunningPerUser');
        const environments = await t.request<{ environments: Environment[] }>(
          'GET',
          '/v1/environments',
        );
        assert.equal(environments.body.environments.length, 1, 'no fresh environment was made');

        const { member, environment: theirs } = await memberWithEnvironment(t);
        runner.reportStatus(theirs.id, { phase: 'running' }, 1);
        await createdTask(t, { environmentId: theirs.id }, member.token);
        const third = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const made = await t.request<Environment>('POST', '/v1/environments', {
          token: third.token,
          body: {},
        });
        const orgFull = await createTask(t, { environmentId: made.body.id }, third.token);
        assertPolicy(orgFull, 'agents.maxRunningPerOrg');

        runner.send({
          type: 'agent-status',
          report: {
            taskId: first.id,
            state: 'succeeded',
            steps: 3,
            inputTokens: 9,
            outputTokens: 4,
          },
        });
        await waitForState(t, first.id, 'succeeded');
        await createdTask(t, body);
      } finally {
        await t.close();
      }
    });

    test('model.keySecret must name a model secret the environment receives', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const body = { environmentId: environment.id };
        const keyed = (keySecret: string) => ({ ...body, model: { ...testModel, keySecret } });
        const none = await createTask(t, keyed('MODEL_KEY'));
        assertNames(none, 400, 'model.keySecret');
        const author = await testAuthor(t);
        const env = await putSecret(t, author, { name: 'PLAIN', value: 'not for models' });
        assert.equal(env.status, 200, JSON.stringify(env.body));
        assertNames(await createTask(t, keyed('PLAIN')), 400, 'model.keySecret');
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const theirAuthor = await testAuthor(t, member);
        const model = { delivery: 'model', target: 'models.example.internal' } as const;
        const theirs = await putSecret(t, theirAuthor, { name: 'THEIRS', value: 'k1', ...model });
        assert.equal(theirs.status, 200, JSON.stringify(theirs.body));
        assertNames(await createTask(t, keyed('THEIRS')), 400, 'model.keySecret');
        const key = await putSecret(t, author, { name: 'MODEL_KEY', value: 'k2', ...model });
        const task = await createdTask(t, keyed('MODEL_KEY'));
        assert.equal(task.model, 'test-model');
        const deleted = await t.request('DELETE', `/v1/secrets/${String(key.body.id)}`);
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        assertNames(await createTask(t, keyed('MODEL_KEY')), 400, 'model.keySecret');
        const variable = await createTask(t, {
          ...body,
          command: { argv: ['aider'], prompt: 'argument', keyVariable: 'OPENAI_API_KEY' },
        });
        assertNames(variable, 400, 'command.keyVariable');
      } finally {
        await t.close();
      }
    });

    test('list and get show your own tasks; admins see all; others get 404', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const mine = await createdTask(t, { environmentId: environment.id });
        const { member, environment: theirs } = await memberWithEnvironment(t);
        const memberTask = await createdTask(t, { environmentId: theirs.id }, member.token);

        const ids = (response: { body: { agentTasks: AgentTask[] } }) =>
          response.body.agentTasks.map((task) => task.id).sort();
        const own = await t.request<{ agentTasks: AgentTask[] }>('GET', '/v1/agent-tasks', {
          token: member.token,
        });
        assert.deepEqual(ids(own), [memberTask.id]);
        const ownerOwn = await t.request<{ agentTasks: AgentTask[] }>('GET', '/v1/agent-tasks');
        assert.deepEqual(ids(ownerOwn), [mine.id]);
        const all = await t.request<{ agentTasks: AgentTask[] }>('GET', '/v1/agent-tasks?all=1');
        assert.equal(all.status, 200, JSON.stringify(all.body));
        assert.deepEqual(ids(all), [mine.id, memberTask.id].sort());
        const memberAll = await t.request('GET', '/v1/agent-tasks?all=1', { token: member.token });
        assert.equal(memberAll.status, 403);

        const hidden = await t.request('GET', `/v1/agent-tasks/${mine.id}`, {
          token: member.token,
        });
        assert.equal(hidden.status, 404);
        const admin = await t.request<AgentTask>('GET', `/v1/agent-tasks/${memberTask.id}`);
        assert.equal(admin.status, 200);
        const outsider = await addUser(t.cp.context, { role: 'owner' });
        const foreign = await t.request('GET', `/v1/agent-tasks/${mine.id}`, {
          token: outsider.token,
        });
        assert.equal(foreign.status, 404);
        const foreignList = await t.request<{ agentTasks: AgentTask[] }>(
          'GET',
          '/v1/agent-tasks?all=1',
          { token: outsider.token },
        );
        assert.deepEqual(foreignList.body.agentTasks, []);
      } finally {
        await t.close();
      }
    });

    test('stop: by the owner or an admin, pushed and audited; ended is a conflict', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const task = await createdTask(t, { environmentId: environment.id });
        const { member, environment: theirs } = await memberWithEnvironment(t);
        const memberTask = await createdTask(t, { environmentId: theirs.id }, member.token);

        const refused = await t.request('POST', `/v1/agent-tasks/${task.id}/stop`, {
          token: member.token,
        });
        assert.equal(refused.status, 404);
        const stopped = await t.request<AgentTask>('POST', `/v1/agent-tasks/${task.id}/stop`);
        assert.equal(stopped.status, 202, JSON.stringify(stopped.body));
        const pushed = await taskPushed(runner, task.id, 'stop');
        assert.equal(pushed.task.id, task.id);
        const again = await t.request('POST', `/v1/agent-tasks/${task.id}/stop`);
        assert.equal(again.status, 200);
        const byAdmin = await t.request('POST', `/v1/agent-tasks/${memberTask.id}/stop`);
        assert.equal(byAdmin.status, 202);
        await taskPushed(runner, memberTask.id, 'stop');
        const stops = await auditOf(t, 'agent.task.stop');
        assert.equal(stops.filter((record) => record.target?.id === task.id).length, 2);
        assert.equal(stops.find((r) => r.target?.id === memberTask.id)?.actor.id, t.owner.userId);

        runner.send({
          type: 'agent-status',
          report: {
            taskId: task.id,
            state: 'cancelled',
            steps: 1,
            inputTokens: 5,
            outputTokens: 2,
          },
        });
        await waitForState(t, task.id, 'cancelled');
        const ended = await t.request<ErrorBody>('POST', `/v1/agent-tasks/${task.id}/stop`);
        assert.equal(ended.status, 409, JSON.stringify(ended.body));
        assert.equal(ended.body.code, 'conflict');
      } finally {
        await t.close();
      }
    });

    test('removing a member stops their agent tasks, audited as the admin', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await runningEnvironment(t);
        const { member, environment } = await memberWithEnvironment(t);
        const task = await createdTask(t, { environmentId: environment.id }, member.token);
        const removed = await t.request('DELETE', `/v1/members/${member.userId}`);
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
        await taskPushed(runner, task.id, 'stop');
        const stops = await auditOf(t, 'agent.task.stop');
        assert.equal(stops.find((r) => r.target?.id === task.id)?.actor.id, t.owner.userId);
      } finally {
        await t.close();
      }
    });

    test('op agent is for the owner only, even with break-glass', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment: mine } = await runningEnvironment(t);
        const own = await t.request('POST', `/v1/environments/${mine.id}/access`, {
          body: { operations: ['agent'] },
        });
        assert.equal(own.status, 201, JSON.stringify(own.body));
        await setPolicy(t, { breakGlass: true });
        const { environment: theirs } = await memberWithEnvironment(t);
        const reason = 'incident 42: checking what the agent did';
        const glass = await t.request<ErrorBody>('POST', `/v1/environments/${theirs.id}/access`, {
          body: { operations: ['agent'], breakGlassReason: reason },
        });
        assert.equal(glass.status, 403, JSON.stringify(glass.body));
        assert.match(glass.body.message, /owner only/);
        const files = await t.request('POST', `/v1/environments/${theirs.id}/access`, {
          body: { operations: ['files:read'], breakGlassReason: reason },
        });
        assert.equal(files.status, 201, 'break-glass itself still works');
      } finally {
        await t.close();
      }
    });
  });
}
