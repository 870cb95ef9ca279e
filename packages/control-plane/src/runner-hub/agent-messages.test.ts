import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  publicKeyObject,
  verifyAccessToken,
  type AgentTask,
  type AgentTaskReport,
  type AuditRecord,
  type Environment,
  type ServerMessage,
} from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { createdTask, sha256Hex } from '../testing/agent-tasks.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

type AgentGrant = ServerMessage & { type: 'agent-grant' };

/** Sends a grant request and waits for its answer. */
async function askGrant(runner: ProtocolRunner, taskId: string): Promise<AgentGrant> {
  const requestId = `req_${randomBytes(8).toString('hex')}`;
  runner.send({ type: 'agent-grant-request', requestId, taskId });
  return runner.waitFor<AgentGrant>(
    (message) => message.type === 'agent-grant' && message.requestId === requestId,
  );
}

/**
 * Sends a report, then waits for the answer to a later request on the same connection: the hub
 * handles a connection's messages in order, so the report has been applied (or ignored) by then.
 */
async function report(
  runner: ProtocolRunner,
  taskId: string,
  fields: Partial<AgentTaskReport> & { state: AgentTaskReport['state'] },
) {
  runner.send({
    type: 'agent-status',
    report: { taskId, steps: 0, inputTokens: 0, outputTokens: 0, ...fields },
  });
  await askGrant(runner, 'agt_barrier0000000000');
}

async function taskOf(t: TestControlPlane, id: string): Promise<AgentTask> {
  return (await t.request<AgentTask>('GET', `/v1/agent-tasks/${id}`)).body;
}

async function records(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

function claimsOf(t: TestControlPlane, grant: AgentGrant, runnerId: string) {
  assert.ok(grant.ok, JSON.stringify(grant));
  const key = publicKeyObject(t.cp.context.signingKey.publicKeyRaw);
  const check = verifyAccessToken(grant.token, key, { audience: runnerId });
  assert.ok(check.ok, JSON.stringify(check));
  return check.claims;
}

for (const backend of testBackends()) {
  describe(`agent messages from runners on ${backend.kind}`, () => {
    test('states only move forward, counts never go down, the end is audited once', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const task = await createdTask(t, { environmentId: environment.id });
        await report(runner, task.id, { state: 'running', steps: 2, inputTokens: 100 });
        const running = await taskOf(t, task.id);
        assert.equal(running.state, 'running');
        assert.ok(running.startedAt);
        assert.equal(running.steps, 2);

        await report(runner, task.id, { state: 'queued', steps: 1, inputTokens: 50 });
        const late = await taskOf(t, task.id);
        assert.equal(late.state, 'running', 'a late queued report does not go back');
        assert.equal(late.steps, 2, 'counts never go down');
        assert.equal(late.inputTokens, 100);
        assert.equal(late.startedAt, running.startedAt);

        const summary = sha256Hex('the summary');
        await report(runner, task.id, {
          state: 'limit_reached',
          reason: 'maxSteps',
          steps: 5,
          inputTokens: 900,
          outputTokens: 40,
          summarySha256: summary,
        });
        await report(runner, task.id, { state: 'succeeded', steps: 9, outputTokens: 99 });
        await report(runner, task.id, { state: 'running', steps: 10 });
        const ended = await taskOf(t, task.id);
        assert.equal(ended.state, 'limit_reached', 'a final state never changes');
        assert.equal(ended.reason, 'maxSteps');
        assert.equal(ended.steps, 5);
        assert.equal(ended.outputTokens, 40);
        assert.equal(ended.summarySha256, summary);
        assert.ok(ended.endedAt);

        const ends = await records(t, 'agent.task.end');
        assert.equal(ends.length, 1, JSON.stringify(ends));
        assert.deepEqual(
          {
            state: ends[0]?.details.state,
            reason: ends[0]?.details.reason,
            steps: ends[0]?.details.steps,
            inputTokens: ends[0]?.details.inputTokens,
            summarySha256: ends[0]?.details.summarySha256,
          },
          {
            state: 'limit_reached',
            reason: 'maxSteps',
            steps: 5,
            inputTokens: 900,
            summarySha256: summary,
          },
        );
        assert.equal(ends[0]?.actor.id, runner.runnerId);

        const again = await runner.connect();
        assert.ok(again.type === 'welcome');
        assert.deepEqual(again.agentTasks, [], 'an ended task is not sent again');
      } finally {
        await t.close();
      }
    });

    test("a runner's report about another runner's task changes nothing", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const task = await createdTask(t, { environmentId: environment.id });
        const { runner: other } = await connectedRunner(t, 'other');
        await report(other, task.id, { state: 'succeeded', steps: 3 });
        const unchanged = await taskOf(t, task.id);
        assert.equal(unchanged.state, 'queued');
        assert.equal(unchanged.steps, 0);
        assert.deepEqual(await records(t, 'agent.task.end'), []);
        const refused = await askGrant(other, task.id);
        assert.equal(refused.ok, false);
        assert.ok(!refused.ok && refused.code === 'not_found');

        const welcome = await runner.connect();
        assert.ok(welcome.type === 'welcome');
        assert.deepEqual(
          welcome.agentTasks?.map((item) => [item.id, item.desired]),
          [[task.id, 'run']],
        );
      } finally {
        await t.close();
      }
    });

    test('a grant names the agent on behalf of the owner, with the ops of its tools', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const task = await createdTask(t, {
          environmentId: environment.id,
          tools: ['read_file', 'list_directory', 'finish'],
        });
        const first = await askGrant(runner, task.id);
        const claims = claimsOf(t, first, runner.runnerId);
        assert.deepEqual(claims.act, { kind: 'agent', id: task.id, onBehalfOf: t.owner.userId });
        assert.deepEqual(claims.ops, ['files:read']);
        assert.equal(claims.env, environment.id);
        const second = await askGrant(runner, task.id);
        assert.ok(!second.ok && second.code === 'conflict', 'queued: the first grant only');

        await report(runner, task.id, { state: 'running' });
        const running = await askGrant(runner, task.id);
        claimsOf(t, running, runner.runnerId);
        const access = await records(t, 'environment.access');
        const agentGrants = access.filter((record) => record.actor.kind === 'agent');
        assert.equal(agentGrants.length, 2);
        assert.deepEqual(agentGrants[0]?.actor, {
          kind: 'agent',
          id: task.id,
          onBehalfOf: t.owner.userId,
        });
        assert.equal(agentGrants[0]?.details.taskId, task.id);

        const full = await createdTask(t, { environmentId: environment.id });
        const all = claimsOf(t, await askGrant(runner, full.id), runner.runnerId);
        assert.deepEqual([...all.ops].sort(), ['exec', 'files:read', 'files:write']);
        const command = await createdTask(t, {
          environmentId: environment.id,
          tools: ['run_command'],
          command: { argv: ['aider', '--yes'], prompt: 'stdin' },
        });
        const commandClaims = claimsOf(t, await askGrant(runner, command.id), runner.runnerId);
        assert.deepEqual(commandClaims.ops, ['exec']);
      } finally {
        await t.close();
      }
    });

    test('no grant for a stopped or ended task, a removed owner, a lost environment', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const stopped = await createdTask(t, { environmentId: environment.id });
        await report(runner, stopped.id, { state: 'running' });
        const stop = await t.request('POST', `/v1/agent-tasks/${stopped.id}/stop`);
        assert.equal(stop.status, 202);
        const afterStop = await askGrant(runner, stopped.id);
        assert.ok(!afterStop.ok && /stopped/.test(afterStop.message), JSON.stringify(afterStop));

        const ended = await createdTask(t, { environmentId: environment.id });
        await report(runner, ended.id, { state: 'failed', reason: 'model server answered 500' });
        const afterEnd = await askGrant(runner, ended.id);
        assert.ok(!afterEnd.ok && /ended/.test(afterEnd.message), JSON.stringify(afterEnd));

        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const theirs = await t.request<Environment>('POST', '/v1/environments', {
          token: member.token,
          body: {},
        });
        runner.reportStatus(theirs.body.id, { phase: 'running' }, 1);
        const memberTask = await createdTask(t, { environmentId: theirs.body.id }, member.token);
        await report(runner, memberTask.id, { state: 'running' });
        claimsOf(t, await askGrant(runner, memberTask.id), runner.runnerId);
        // Removing a member through the API also stops their tasks; the owner check itself is
        // what this looks at, so the user is marked removed with the task still running.
        await t.cp.context.db.execute('UPDATE users SET removed_at = ? WHERE id = ?', [
          Date.now(),
          member.userId,
        ]);
        const afterRemoval = await askGrant(runner, memberTask.id);
        assert.ok(!afterRemoval.ok && afterRemoval.code === 'forbidden');
        assert.match(afterRemoval.message, /removed/);

        const deleted = await createdTask(t, { environmentId: environment.id });
        await report(runner, deleted.id, { state: 'running' });
        const gone = await t.request('DELETE', `/v1/environments/${environment.id}`);
        assert.equal(gone.status, 202);
        const afterDelete = await askGrant(runner, deleted.id);
        assert.ok(!afterDelete.ok && /deleted/.test(afterDelete.message));

        const denied = await records(t, 'access.denied');
        const agentDenials = denied.filter((record) => record.actor.kind === 'agent');
        assert.deepEqual(
          new Set(agentDenials.map((record) => record.actor.id)),
          new Set([stopped.id, ended.id, memberTask.id, deleted.id]),
        );
      } finally {
        await t.close();
      }
    });
  });
}
