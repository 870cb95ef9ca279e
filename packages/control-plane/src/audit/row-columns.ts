import { HangarError } from '@hangar/api';
import type { AuditRow } from './audit-rows.js';

/**
 * A query column of one stored record that disagrees with the record's hashed contents.
 * `actor_id`, `target_id` and `time_ms` are copies kept for filtering; the hash does not cover
 * them, so an edit there would hide a record from filtered queries while the chain verifies.
 */
export interface ColumnMismatch {
  seq: number;
  column: 'actor_id' | 'target_id' | 'time_ms';
  /** True when the hashed JSON itself no longer parses: the hash check names that record. */
  unreadable: boolean;
}

function parsedId(text: string): { id: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as { id: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** The first query column of `row` that its hashed JSON contradicts, or undefined. */
export function columnMismatch(row: AuditRow): ColumnMismatch | undefined {
  const seq = Number(row.seq);
  const actor = parsedId(row.actor);
  if (!actor) return { seq, column: 'actor_id', unreadable: true };
  if (actor.id !== row.actor_id) return { seq, column: 'actor_id', unreadable: false };
  if (row.target === null) {
    if (row.target_id !== null) return { seq, column: 'target_id', unreadable: false };
  } else {
    const target = parsedId(row.target);
    if (!target) return { seq, column: 'target_id', unreadable: true };
    if (target.id !== row.target_id) return { seq, column: 'target_id', unreadable: false };
  }
  if (Date.parse(row.time) !== Number(row.time_ms)) {
    return { seq, column: 'time_ms', unreadable: false };
  }
  return undefined;
}

export function columnMismatchError(orgId: string, mismatch: ColumnMismatch): HangarError {
  return new HangarError(
    'audit_unavailable',
    `audit record ${mismatch.seq} of ${orgId} has a ${mismatch.column} column that disagrees ` +
      'with its hashed contents: the database was edited, so nothing was returned. Compare a ' +
      "saved export with `hangar audit verify`, and restore the control plane's database from " +
      'a trusted copy',
  );
}
