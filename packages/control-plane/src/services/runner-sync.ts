import type { EnvironmentStatus, RunnerAuditRecord, RunnerClass, RunnerSsh } from '@hangar/api';
import { ownTargets, runnerAuditEntry, type RunnerRecordCheck } from '../audit/runner-records.js';
import type { Context } from '../context.js';
import { desiredOfRows } from './desired-state.js';
import type { EnvironmentRow } from './environment-rows.js';
import type { RunnerRow } from './runners.js';

/** Every environment a runner must converge, sent whole on each connect (level-triggered). */
export async function desiredFor(context: Context, runnerId: string) {
  const rows = await context.db.query<EnvironmentRow>(
    `SELECT * FROM environments WHERE runner_id = ?
       AND NOT (desired_phase = 'deleted' AND phase = 'deleted') ORDER BY created_at, id`,
    [runnerId],
  );
  return desiredOfRows(context.db, rows, context.logger);
}

export async function markRunnerConnected(
  context: Context,
  runner: RunnerRow,
  hello: { gatewayUrl: string; classes: RunnerClass[]; ssh?: RunnerSsh | undefined },
): Promise<void> {
  await context.db.execute(
    `UPDATE runners SET connected = 1, last_seen_at = ?, gateway_url = ?, classes = ?,
       ssh_address = ?, ssh_host_keys = ? WHERE id = ?`,
    [
      Date.now(),
      hello.gatewayUrl,
      JSON.stringify(hello.classes),
      hello.ssh?.address ?? null,
      hello.ssh ? JSON.stringify(hello.ssh.hostKeys) : null,
      runner.id,
    ],
  );
}

export async function markRunnerSeen(context: Context, runnerId: string): Promise<void> {
  await context.db.execute('UPDATE runners SET last_seen_at = ? WHERE id = ?', [
    Date.now(),
    runnerId,
  ]);
}

export async function markRunnerDisconnected(context: Context, runnerId: string): Promise<void> {
  await context.db.execute('UPDATE runners SET connected = 0 WHERE id = ?', [runnerId]);
}

/**
 * Stores the status a runner observed. Only the environment's own runner may write it; a status
 * for another runner's environment is ignored and reported back as false.
 */
export async function applyStatus(
  context: Context,
  runnerId: string,
  environmentId: string,
  status: EnvironmentStatus,
): Promise<boolean> {
  const now = Date.now();
  const settled =
    status.phase === 'running' ||
    status.phase === 'stopped' ||
    status.phase === 'deleted' ||
    status.phase === 'failed';
  const changed = await context.db.execute(
    `UPDATE environments SET status = ?, phase = ?, status_version = status_version + 1,
       updated_at = ?,
       active_name = CASE WHEN ? = 'deleted' THEN NULL ELSE active_name END,
       operation_started_at =
         CASE WHEN ? = 1 AND ? >= generation THEN NULL ELSE operation_started_at END
     WHERE id = ? AND runner_id = ?`,
    [
      JSON.stringify(status),
      status.phase,
      now,
      status.phase,
      settled ? 1 : 0,
      status.observedGeneration,
      environmentId,
      runnerId,
    ],
  );
  if (changed > 0) context.statusChanges.notify(environmentId);
  return changed > 0;
}

/**
 * Chains a batch of the runner's queued audit records. Records at or below the runner's
 * acknowledged sequence were stored before and are skipped, so a resent batch lands once. A
 * record this runner may not report as it is, or that cannot be stored, is chained as a
 * placeholder that names the problem (see `runnerAuditEntry`) and acknowledged like any other,
 * so one bad record never holds back the runner's queue. Returns the new acknowledged sequence.
 */
export async function ingestRunnerAudit(
  context: Context,
  runner: { id: string; orgId: string },
  records: readonly RunnerAuditRecord[],
): Promise<number> {
  return context.db.transaction(async (tx) => {
    const rows = await tx.query<{ audit_acked_seq: number; created_at: number }>(
      `SELECT audit_acked_seq, created_at FROM runners WHERE id = ? ${context.db.forUpdate}`,
      [runner.id],
    );
    let acked = rows[0]?.audit_acked_seq ?? 0;
    const fresh = records
      .filter((record) => record.localSeq > acked)
      .sort((a, b) => a.localSeq - b.localSeq);
    const check: RunnerRecordCheck = {
      runner: { ...runner, createdAtMs: rows[0]?.created_at ?? 0 },
      ownTargets: await ownTargets(tx, runner, fresh),
      nowMs: Date.now(),
    };
    for (const record of fresh) {
      if (record.localSeq <= acked) continue;
      const { entry, problem } = runnerAuditEntry(record, check);
      if (problem) {
        context.logger.warn(
          { runnerId: runner.id, localSeq: record.localSeq, problem },
          'runner audit record chained as a placeholder',
        );
      }
      await context.audit.append(tx, entry);
      acked = record.localSeq;
    }
    await tx.execute('UPDATE runners SET audit_acked_seq = ? WHERE id = ?', [acked, runner.id]);
    return acked;
  });
}

/**
 * Fails every environment whose operation waited longer than the operation timeout for a runner
 * that is not connected, so that nothing stays `creating` forever. This is the one status write
 * that does not come from a runner: the runner is gone and cannot report.
 */
export async function failAbandonedOperations(context: Context): Promise<number> {
  const cutoff = Date.now() - context.config.operationTimeoutMs;
  const rows = await context.db.query<
    EnvironmentRow & { runner_name: string; last_seen: number | null }
  >(
    `SELECT e.*, r.name AS runner_name, r.last_seen_at AS last_seen
     FROM environments e JOIN runners r ON r.id = e.runner_id
     WHERE e.operation_started_at IS NOT NULL AND e.operation_started_at < ?
       AND r.connected = 0 AND e.phase NOT IN ('deleted', 'failed')`,
    [cutoff],
  );
  for (const row of rows) {
    const seen = row.last_seen ? new Date(row.last_seen).toISOString() : 'never';
    const status: EnvironmentStatus = {
      ...(JSON.parse(row.status) as EnvironmentStatus),
      phase: 'failed',
      phaseChangedAt: new Date().toISOString(),
      failure: {
        reason: 'RunnerUnavailable',
        message:
          `runner ${row.runner_name} (${row.runner_id}) went away while the environment was ` +
          `${row.phase} and has not come back (last seen ${seen}); start the runner, then ` +
          'start or delete the environment',
      },
    };
    await context.db.transaction(async (tx) => {
      await tx.execute(
        `UPDATE environments SET status = ?, phase = 'failed', status_version = status_version + 1,
           operation_started_at = NULL, updated_at = ? WHERE id = ? AND operation_started_at = ?`,
        [JSON.stringify(status), Date.now(), row.id, row.operation_started_at],
      );
      await context.audit.append(tx, {
        orgId: row.org_id,
        actor: { kind: 'system', id: 'control-plane' },
        action: 'environment.fail',
        target: { kind: 'environment', id: row.id },
        outcome: 'failure',
        requestId: 'sweeper',
        sourceAddress: 'control-plane',
        details: { reason: 'RunnerUnavailable', runnerId: row.runner_id },
      });
    });
    context.statusChanges.notify(row.id);
  }
  return rows.length;
}
