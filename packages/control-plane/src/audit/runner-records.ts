import {
  HangarError,
  runnerAuditActions,
  unstorableTextReason,
  type RunnerAuditRecord,
} from '@hangar/api';
import type { Queryable } from '../storage/database.js';
import { parseRfc3339, prepareEntry, type AuditEntry } from './audit-entry.js';

/** How far a runner's clock may run ahead of the control plane's, or behind at enrollment. */
export const runnerClockSkewMs = 5 * 60_000;

export interface ReportingRunner {
  id: string;
  orgId: string;
  createdAtMs: number;
}

/** What one batch of a runner's records is checked against. */
export interface RunnerRecordCheck {
  runner: ReportingRunner;
  /** The environments and agent tasks of this runner among those the batch names (`kind:id`). */
  ownTargets: ReadonlySet<string>;
  nowMs: number;
}

const recordFields = new Set([
  'time',
  'actor',
  'action',
  'target',
  'outcome',
  'requestId',
  'sourceAddress',
  'details',
]);

/** The kinds of target a runner reports about, each with the table that says whose it is. */
const targetTables = { environment: 'environments', 'agent-task': 'agent_tasks' } as const;

type OwnTargetKind = keyof typeof targetTables;

function isOwnTargetKind(kind: unknown): kind is OwnTargetKind {
  return typeof kind === 'string' && Object.hasOwn(targetTables, kind);
}

/** `kind:id` of a record's target, the key `ownTargets` holds. */
function targetKey(kind: string, id: string): string {
  return `${kind}:${id}`;
}

/**
 * The targets of `runnerId` among those the records name: its environments, and the agent tasks
 * that run on it (whose prompt it takes), as `kind:id`.
 */
export async function ownTargets(
  tx: Queryable,
  runner: { id: string; orgId: string },
  records: readonly RunnerAuditRecord[],
): Promise<Set<string>> {
  const owned = new Set<string>();
  for (const kind of Object.keys(targetTables) as OwnTargetKind[]) {
    const ids = new Set<string>();
    for (const { target } of records) {
      const id = target?.kind === kind ? target.id : undefined;
      // An id the database cannot hold names nothing, and must not reach the query.
      if (typeof id === 'string' && unstorableTextReason(id) === undefined) ids.add(id);
    }
    if (ids.size === 0) continue;
    const list = [...ids];
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM ${targetTables[kind]} WHERE runner_id = ? AND org_id = ?
         AND id IN (${list.map(() => '?').join(', ')})`,
      [runner.id, runner.orgId, ...list],
    );
    for (const row of rows) owned.add(targetKey(kind, row.id));
  }
  return owned;
}

function isRunnerAction(action: unknown): boolean {
  return (runnerAuditActions as readonly unknown[]).includes(action);
}

/** What makes a record one this runner may not report as it is, in the control plane's words. */
function mismatchOf(record: RunnerAuditRecord, check: RunnerRecordCheck): string | undefined {
  if (!isRunnerAction(record.action)) return 'the action is not one a runner may report';
  const target = record.target;
  const owned =
    isOwnTargetKind(target?.kind) &&
    typeof target.id === 'string' &&
    check.ownTargets.has(targetKey(target.kind, target.id));
  if (!owned) return 'the target is not an environment or agent task of this runner';
  const time = typeof record.time === 'string' ? parseRfc3339(record.time) : undefined;
  if (!time) return 'the time is not an RFC 3339 time';
  if (time.ms > check.nowMs + runnerClockSkewMs) return 'the time is in the future';
  if (time.ms < check.runner.createdAtMs - runnerClockSkewMs) {
    return 'the time is before the runner was created';
  }
  return undefined;
}

/** Which field could not be stored, named by the schema's own field, never by sent text. */
function unstorableReason(error: HangarError): string {
  const field = error.fields?.[0]?.field.split('.')[0] ?? '';
  return recordFields.has(field)
    ? `the record's ${field} cannot be stored`
    : 'the record cannot be stored';
}

/**
 * The record chained instead of one that cannot be chained as sent: by the runner, about the
 * runner, outcome `failure`, holding only the reason, the runner's local sequence number and
 * its id. Known gap: an action a runner may not report has no action of its own to take, so it
 * becomes `access.denied` (the runner was refused recording it); a dedicated action in
 * `auditActions` would say so more plainly.
 */
function placeholder(record: RunnerAuditRecord, check: RunnerRecordCheck, reason: string) {
  const { runner } = check;
  const time = typeof record.time === 'string' ? parseRfc3339(record.time) : undefined;
  const timeFits =
    time !== undefined &&
    time.ms <= check.nowMs + runnerClockSkewMs &&
    time.ms >= runner.createdAtMs - runnerClockSkewMs;
  return {
    orgId: runner.orgId,
    actor: { kind: 'runner', id: runner.id },
    action: isRunnerAction(record.action) ? record.action : 'access.denied',
    target: { kind: 'runner', id: runner.id },
    outcome: 'failure',
    requestId: 'runner-audit',
    sourceAddress: 'runner',
    details: {
      unstorable: true,
      reason,
      localSeq: Number.isSafeInteger(record.localSeq) ? record.localSeq : null,
      runnerId: runner.id,
    },
    ...(timeFits ? { time: time.iso } : {}),
  } satisfies AuditEntry;
}

/**
 * The entry to chain for one record a runner reported: the record as sent, with the runner's id
 * added, when this runner may report it (an action of its data plane, about one of its own
 * environments, at a plausible time) and the log can store it. Otherwise a placeholder that
 * names what was wrong in the control plane's own words, holding none of the sent text, so that
 * the runner's queue still drains and no record is dropped without a trace.
 */
export function runnerAuditEntry(
  record: RunnerAuditRecord,
  check: RunnerRecordCheck,
): { entry: AuditEntry; problem?: string } {
  const mismatch = mismatchOf(record, check);
  if (mismatch) return { entry: placeholder(record, check, mismatch), problem: mismatch };
  const entry: AuditEntry = {
    orgId: check.runner.orgId,
    actor: record.actor,
    action: record.action,
    target: record.target,
    outcome: record.outcome,
    requestId: record.requestId,
    sourceAddress: record.sourceAddress,
    details: { ...record.details, runnerId: check.runner.id },
    time: record.time,
  };
  try {
    prepareEntry(entry);
    return { entry };
  } catch (error: unknown) {
    if (!(error instanceof HangarError) || error.code !== 'invalid_request') throw error;
    const problem = unstorableReason(error);
    return { entry: placeholder(record, check, problem), problem };
  }
}
