import { canonicalJson, type AuditCheckpoint, type AuditRecord } from '@hangar/api';
import type { Queryable, SqlValue } from '../storage/database.js';

/** One row of `audit_records`; actor, target and details are canonical JSON text. */
export type AuditRow = {
  org_id: string;
  seq: number;
  time: string;
  time_ms: number;
  actor: string;
  actor_id: string;
  action: string;
  target: string | null;
  target_id: string | null;
  outcome: string;
  request_id: string;
  source_address: string;
  details: string;
  prev_hash: string;
  hash: string;
};

export type CheckpointRow = {
  org_id: string;
  seq: number;
  hash: string;
  time: string;
  signature: string;
};

export type HeadRow = { seq: number; hash: string };

const insertRecordSql = `INSERT INTO audit_records (org_id, seq, time, time_ms, actor, actor_id,
  action, target, target_id, outcome, request_id, source_address, details, prev_hash, hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export async function insertRecord(tx: Queryable, record: AuditRecord): Promise<void> {
  const params: SqlValue[] = [
    record.orgId,
    record.seq,
    record.time,
    Date.parse(record.time),
    canonicalJson(record.actor),
    record.actor.id,
    record.action,
    record.target === null ? null : canonicalJson(record.target),
    record.target?.id ?? null,
    record.outcome,
    record.requestId,
    record.sourceAddress,
    canonicalJson(record.details),
    record.prevHash,
    record.hash,
  ];
  await tx.execute(insertRecordSql, params);
}

export async function insertCheckpoint(tx: Queryable, checkpoint: AuditCheckpoint): Promise<void> {
  await tx.execute(
    'INSERT INTO audit_checkpoints (org_id, seq, hash, time, signature) VALUES (?, ?, ?, ?, ?)',
    [checkpoint.orgId, checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.signature],
  );
}

/**
 * Parses a JSON column. A row edited into something unreadable still comes back, holding the
 * raw text, so that verification names it as edited instead of the whole read failing.
 */
function parseColumn<T>(text: string, unreadable: (raw: string) => T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return unreadable(text);
  }
}

export function toRecord(row: AuditRow): AuditRecord {
  return {
    orgId: row.org_id,
    seq: row.seq,
    time: row.time,
    actor: parseColumn<AuditRecord['actor']>(row.actor, (raw) => ({
      kind: 'system',
      id: `unreadable actor: ${raw.slice(0, 150)}`,
    })),
    action: row.action,
    target:
      row.target === null
        ? null
        : parseColumn<AuditRecord['target']>(row.target, (raw) => ({
            kind: 'unreadable',
            id: raw.slice(0, 200),
          })),
    outcome: row.outcome as AuditRecord['outcome'],
    requestId: row.request_id,
    sourceAddress: row.source_address,
    details: parseColumn<AuditRecord['details']>(row.details, (raw) => ({
      unreadable: raw.slice(0, 1000),
    })),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  return {
    orgId: row.org_id,
    seq: row.seq,
    hash: row.hash,
    time: row.time,
    signature: row.signature,
  };
}
