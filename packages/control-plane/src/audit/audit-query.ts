import { HangarError, type AuditQuery } from '@hangar/api';
import type { SqlValue } from '../storage/database.js';
import { parseRfc3339 } from './audit-entry.js';

export const defaultAuditPageSize = 100;
export const maxAuditPageSize = 1000;

const cursorVersion = 'a1';
const cursorPattern = /^a1:([1-9][0-9]{0,15})$/;

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** An opaque cursor that resumes a listing after the record with sequence number `seq`. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`${cursorVersion}:${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const refuse = () =>
    invalid(
      'cursor',
      'is not a cursor this server issued; pass the nextCursor of the previous page unchanged, ' +
        'or leave it out to start from the oldest record',
    );
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(cursor)) throw refuse();
  const match = cursorPattern.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const seq = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(seq) || encodeCursor(seq) !== cursor) throw refuse();
  return seq;
}

function timeBound(field: 'since' | 'until', value: string): { iso: string; ms: number } {
  const parsed = parseRfc3339(value);
  if (!parsed) throw invalid(field, 'must be an RFC 3339 time such as 2024-05-01T12:00:00Z');
  return parsed;
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return defaultAuditPageSize;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxAuditPageSize) {
    throw invalid('limit', `must be a whole number from 1 to ${maxAuditPageSize}`);
  }
  return limit;
}

/** `environment.*` matches every action under `environment.`; anything else matches exactly. */
function actionCondition(action: string): { sql: string; params: SqlValue[] } {
  if (action.endsWith('.*')) {
    const prefix = action.slice(0, -1);
    if (prefix.length < 2 || prefix.includes('*')) {
      throw invalid('action', 'must be an action name, or a prefix ending in .* such as env.*');
    }
    return { sql: 'substr(action, 1, ?) = ?', params: [prefix.length, prefix] };
  }
  if (action.includes('*')) {
    throw invalid('action', 'may hold * only as a final .*, as in environment.*');
  }
  return { sql: 'action = ?', params: [action] };
}

/**
 * Matches records whose actor or target has `id`, on the hashed JSON column rather than on its
 * unhashed `_id` copy, so that editing the copy cannot hide a record. Canonical JSON sorts keys,
 * so both objects begin `{"id":<id>,"kind":`; lengths count code points, as SQL's substr does.
 */
// Known gap: this prefix match cannot use the (org_id, actor_id, seq) and (org_id, target_id, seq)
// indexes, so a filtered listing scans the organization's records in sequence order; an
// expression index on the JSON prefix, added by a migration, would restore indexed lookups.
function idCondition(column: 'actor' | 'target', id: string): { sql: string; params: SqlValue[] } {
  const prefix = `{"id":${JSON.stringify(id)},"kind":`;
  return { sql: `substr(${column}, 1, ?) = ?`, params: [[...prefix].length, prefix] };
}

export interface AuditSelect {
  sql: string;
  params: SqlValue[];
  /** Records a page holds; the statement asks for one more, to tell whether another page exists. */
  limit: number;
}

/**
 * The SELECT for one page of an organization's records, oldest first (ascending sequence
 * number), so that a cursor is simply the last sequence number seen and paging never skips or
 * repeats a record while new ones are appended. `since` is inclusive, `until` exclusive. Every
 * filter reads a column the record's hash covers (`actor`, `target`, `time`, `action`).
 */
export function selectAuditPage(orgId: string, query: AuditQuery): AuditSelect {
  const conditions = ['org_id = ?'];
  const params: SqlValue[] = [orgId];
  const add = (sql: string, ...values: SqlValue[]) => {
    conditions.push(sql);
    params.push(...values);
  };

  if (query.cursor !== undefined) add('seq > ?', decodeCursor(query.cursor));
  if (query.actor !== undefined) {
    const condition = idCondition('actor', query.actor);
    add(condition.sql, ...condition.params);
  }
  if (query.action !== undefined) {
    const condition = actionCondition(query.action);
    add(condition.sql, ...condition.params);
  }
  if (query.target !== undefined) {
    const condition = idCondition('target', query.target);
    add(condition.sql, ...condition.params);
  }
  const since = query.since === undefined ? undefined : timeBound('since', query.since);
  const until = query.until === undefined ? undefined : timeBound('until', query.until);
  if (since !== undefined && until !== undefined && since.ms >= until.ms) {
    throw invalid('until', 'must be later than since');
  }
  // Stored times are all `toISOString()` text of one width, so text order is time order.
  if (since !== undefined) add('time >= ?', since.iso);
  if (until !== undefined) add('time < ?', until.iso);

  const limit = pageSize(query.limit);
  const sql =
    `SELECT * FROM audit_records WHERE ${conditions.join(' AND ')} ` + 'ORDER BY seq LIMIT ?';
  return { sql, params: [...params, limit + 1], limit };
}
