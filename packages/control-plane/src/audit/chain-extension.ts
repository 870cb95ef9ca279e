import { HangarError, genesisHash, hashRecord, type ChainProblem } from '@hangar/api';
import type { Queryable } from '../storage/database.js';
import type { ChainPoint } from './audit-anchors.js';
import { toRecord, type AuditRow } from './audit-rows.js';

const pageSize = 1000;

/** The start of every chain: nothing signed yet. */
export const genesisPoint: ChainPoint = { seq: 0, hash: genesisHash };

/**
 * Where the stored records stop extending `from` up to `head`, or undefined when they do: the
 * record at `from.seq` still has the hash that was signed, and every later record up to the
 * head follows in sequence, links to the one before and matches its own hash.
 */
export async function extensionProblem(
  tx: Queryable,
  options: { orgId: string; from: ChainPoint; head: ChainPoint },
): Promise<ChainProblem | undefined> {
  const { orgId, from, head } = options;
  if (head.seq < from.seq) {
    return { seq: head.seq + 1, reason: `is missing: the chain now ends at ${head.seq}` };
  }
  let expected = from.seq === 0 ? 1 : from.seq;
  let prevHash: string | undefined = from.seq === 0 ? genesisHash : undefined;
  while (expected <= head.seq) {
    const rows = await tx.query<AuditRow>(
      `SELECT * FROM audit_records WHERE org_id = ? AND seq >= ? AND seq <= ?
       ORDER BY seq LIMIT ?`,
      [orgId, expected, head.seq, pageSize],
    );
    if (rows.length === 0) return { seq: expected, reason: 'is missing' };
    for (const row of rows) {
      const { hash, ...unhashed } = toRecord(row);
      if (unhashed.seq !== expected) return { seq: expected, reason: 'is missing' };
      if (hashRecord(unhashed) !== hash) {
        return { seq: expected, reason: 'does not match its hash (edited)' };
      }
      if (expected === from.seq && hash !== from.hash) {
        return { seq: expected, reason: 'no longer has the hash that was signed (rewritten)' };
      }
      if (prevHash !== undefined && unhashed.prevHash !== prevHash) {
        return { seq: expected, reason: 'does not link to the record before it' };
      }
      prevHash = hash;
      expected += 1;
    }
  }
  if (prevHash !== head.hash) {
    return { seq: head.seq, reason: 'is not the head the log records' };
  }
  return undefined;
}

/** Why no checkpoint is signed over a chain that no longer extends the last signed one. */
export function notExtendingError(
  orgId: string,
  from: ChainPoint,
  problem: ChainProblem,
): HangarError {
  const since =
    from.seq === 0 ? 'its first record' : `the last signed checkpoint (seq ${from.seq})`;
  return new HangarError(
    'audit_unavailable',
    `the audit chain of ${orgId} no longer extends ${since}: at seq ${problem.seq} the ` +
      `record ${problem.reason}; no new checkpoint is signed over it. The database was edited or ` +
      'restored from an older copy: compare a saved export with `hangar audit verify`, and ' +
      "restore the control plane's database from a trusted copy (after a deliberate restore, " +
      'move audit-anchors.jsonl in the data directory aside)',
  );
}
