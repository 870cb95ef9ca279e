import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  RunnerAuditRecordSchema,
  publicKeyObject,
  runnerAuditActions,
  runnerAuditDetailMembers,
  storableAuditFields,
  validator,
  verifyChain,
  type AuditRecord,
  type RunnerAuditRecord,
  type ServerMessage,
} from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { ingestRunnerAudit } from './runner-sync.js';

const checkRunnerRecord = validator(RunnerAuditRecordSchema, 'runner audit record');

function record(
  localSeq: number,
  environmentId: string,
  overrides: Partial<RunnerAuditRecord> = {},
): RunnerAuditRecord {
  return {
    localSeq,
    time: new Date().toISOString(),
    actor: { kind: 'user', id: 'usr_runnersync0' },
    action: 'environment.exec',
    target: { kind: 'environment', id: environmentId },
    outcome: 'success',
    requestId: `req_${localSeq}`,
    sourceAddress: '10.1.2.3',
    details: { stage: 'end', exitCode: 0 },
    ...overrides,
  };
}

/** Every record the runner's batches produced, oldest first. */
async function runnerRecords(t: TestControlPlane, runnerId: string): Promise<AuditRecord[]> {
  const exported = await t.cp.context.audit.export(t.owner.orgId);
  const actions: readonly string[] = runnerAuditActions;
  return exported.records.filter(
    (r) => r.details.runnerId === runnerId && actions.includes(r.action),
  );
}

function acks(runner: ProtocolRunner): number[] {
  return runner.received.flatMap((m: ServerMessage) =>
    m.type === 'audit-ack' ? [m.upToLocalSeq] : [],
  );
}

/** Waits for the `count`th acknowledgement, failing after a few seconds instead of hanging. */
async function nthAck(runner: ProtocolRunner, count: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const errors = runner.received.filter((m) => m.type === 'error');
      reject(new Error(`no acknowledgement ${count}; the hub said ${JSON.stringify(errors)}`));
    }, 5000);
  });
  try {
    await Promise.race([runner.waitFor(() => acks(runner).length >= count), timeout]);
    return acks(runner)[count - 1] ?? 0;
  } finally {
    clearTimeout(timer);
  }
}

function placeholderOf(found: AuditRecord | undefined) {
  assert.ok(found);
  return { action: found.action, outcome: found.outcome, details: found.details };
}

for (const backend of testBackends()) {
  describe(`runner audit ingestion on ${backend.kind}`, () => {
    test('a poisoned queue drains: bad records become placeholders, later ones pass', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t);
        const sanitized = storableAuditFields(
          record(4, environment.id, {
            action: 'environment.file.read',
            details: { path: '/srv/\u0000secret', grant: 'grt_1' },
          }),
          { maxDetailMembers: runnerAuditDetailMembers },
        );
        const batch: RunnerAuditRecord[] = [
          record(1, 'x\u0000y', {
            actor: { kind: 'system', id: 'anonymous' },
            action: 'access.denied',
            outcome: 'denied',
            details: { reason: 'no token', operation: 'logs' },
          }),
          record(2, environment.id, {
            action: 'environment.file.read',
            details: { path: '/etc/\u0000passwd', grant: 'grt_1' },
          }),
          record(3, environment.id),
          checkRunnerRecord(sanitized),
        ];
        runner.send({ type: 'audit', records: batch });
        assert.equal(await nthAck(runner, 1), 4);

        const stored = await runnerRecords(t, runner.runnerId);
        assert.equal(stored.length, 4);
        assert.deepEqual(placeholderOf(stored[0]), {
          action: 'access.denied',
          outcome: 'failure',
          details: {
            unstorable: true,
            reason: 'the target is not an environment or agent task of this runner',
            localSeq: 1,
            runnerId: runner.runnerId,
          },
        });
        assert.deepEqual(placeholderOf(stored[1]), {
          action: 'environment.file.read',
          outcome: 'failure',
          details: {
            unstorable: true,
            reason: "the record's details cannot be stored",
            localSeq: 2,
            runnerId: runner.runnerId,
          },
        });
        for (const placeholder of stored.slice(0, 2)) {
          assert.deepEqual(placeholder.target, { kind: 'runner', id: runner.runnerId });
          assert.deepEqual(placeholder.actor, { kind: 'runner', id: runner.runnerId });
          assert.doesNotMatch(JSON.stringify(placeholder), /passwd|x\\u0000y|anonymous|req_/);
        }
        assert.equal(stored[2]?.requestId, 'req_3');
        assert.deepEqual(stored[2]?.details, {
          stage: 'end',
          exitCode: 0,
          runnerId: runner.runnerId,
        });
        assert.equal(stored[3]?.outcome, 'success', 'a record the runner cleaned is stored whole');
        assert.equal(stored[3]?.details.path, '/srv/\\u0000secret');

        // The same batch again (a lost acknowledgement) lands nothing twice.
        runner.send({ type: 'audit', records: batch });
        assert.equal(await nthAck(runner, 2), 4);
        runner.send({ type: 'audit', records: [...batch, record(5, environment.id)] });
        assert.equal(await nthAck(runner, 3), 5);
        const after = await runnerRecords(t, runner.runnerId);
        assert.deepEqual(
          after.map((r) => r.requestId),
          ['runner-audit', 'runner-audit', 'req_3', 'req_4', 'req_5'],
        );
        const exported = await t.cp.context.audit.export(t.owner.orgId);
        const key = publicKeyObject(exported.publicKey);
        assert.equal(verifyChain(exported.records, exported.checkpoints, key).ok, true);
      } finally {
        await t.close();
      }
    });

    test("a runner's records must name its own environments, at a plausible time", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: first } = await connectedRunner(t, 'first');
        const environment = await createEnvironment(t);
        const { runner: second } = await connectedRunner(t, 'second');
        const other = { id: second.runnerId, orgId: t.owner.orgId };
        const own = { id: first.runnerId, orgId: t.owner.orgId };
        const hour = 3_600_000;

        const reasons = async (
          runner: { id: string; orgId: string },
          records: RunnerAuditRecord[],
        ) => {
          const acked = await ingestRunnerAudit(t.cp.context, runner, records);
          assert.equal(acked, records.at(-1)?.localSeq, 'every record is acknowledged');
          const stored = (await runnerRecords(t, runner.id)).slice(-records.length);
          assert.equal(stored.length, records.length, 'none is dropped');
          return stored.map((r) => (r.details.unstorable ? r.details.reason : 'kept'));
        };

        assert.deepEqual(
          await reasons(other, [
            record(1, environment.id),
            record(2, second.runnerId, { target: { kind: 'runner', id: second.runnerId } }),
            record(3, environment.id, { target: null }),
            record(4, environment.id, { action: 'org.bootstrap' }),
          ]),
          [
            'the target is not an environment or agent task of this runner',
            'the target is not an environment or agent task of this runner',
            'the target is not an environment or agent task of this runner',
            'the action is not one a runner may report',
          ],
        );
        const notReportable = (await runnerRecords(t, second.runnerId)).at(-1);
        assert.equal(notReportable?.action, 'access.denied');

        const now = Date.now();
        assert.deepEqual(
          await reasons(own, [
            record(1, environment.id, { time: new Date(now + hour).toISOString() }),
            record(2, environment.id, { time: '2001-01-01T00:00:00Z' }),
            record(3, environment.id, { time: new Date(now - 1000).toISOString() }),
            record(4, environment.id, { time: new Date(now + 10_000).toISOString() }),
          ]),
          [
            'the time is in the future',
            'the time is before the runner was created',
            'kept',
            'kept',
          ],
        );
        const future = (await runnerRecords(t, first.runnerId))[0];
        assert.ok(future && Date.parse(future.time) <= Date.now(), 'a placeholder has a sane time');

        // Replayed: nothing is chained or acknowledged twice.
        const before = (await t.cp.context.audit.head(t.owner.orgId))?.seq;
        assert.equal(await ingestRunnerAudit(t.cp.context, own, [record(2, environment.id)]), 4);
        assert.equal((await t.cp.context.audit.head(t.owner.orgId))?.seq, before);
      } finally {
        await t.close();
      }
    });

    test("a prompt's record names an agent task of this runner, and is kept as sent", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: first } = await connectedRunner(t, 'first');
        const environment = await createEnvironment(t);
        const { runner: second } = await connectedRunner(t, 'second');
        const task = await t.request<{ id: string }>('POST', '/v1/agent-tasks', {
          body: {
            environmentId: environment.id,
            promptSha256: '0'.repeat(64),
            model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'sync' },
          },
        });
        assert.equal(task.status, 201, JSON.stringify(task.body));
        const prompt = (localSeq: number) =>
          record(localSeq, environment.id, {
            action: 'agent.prompt.submit',
            actor: { kind: 'user', id: t.owner.userId },
            target: { kind: 'agent-task', id: task.body.id },
            details: { promptSha256: '0'.repeat(64) },
          });
        const own = { id: first.runnerId, orgId: t.owner.orgId };
        assert.equal(await ingestRunnerAudit(t.cp.context, own, [prompt(1)]), 1);
        const kept = (await runnerRecords(t, first.runnerId)).at(-1);
        assert.equal(kept?.details.unstorable, undefined, JSON.stringify(kept));
        assert.deepEqual(kept?.target, { kind: 'agent-task', id: task.body.id });
        assert.equal(kept?.actor.id, t.owner.userId);

        const other = { id: second.runnerId, orgId: t.owner.orgId };
        assert.equal(await ingestRunnerAudit(t.cp.context, other, [prompt(1)]), 1);
        const refused = (await runnerRecords(t, second.runnerId)).at(-1);
        assert.equal(
          refused?.details.reason,
          'the target is not an environment or agent task of this runner',
        );
      } finally {
        await t.close();
      }
    });
  });
}
