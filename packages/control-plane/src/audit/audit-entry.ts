import {
  AuditRecordSchema,
  HangarError,
  auditLimits,
  genesisHash,
  unstorableTextReason,
  validator,
  type AuditRecord,
  type UnhashedRecord,
} from '@hangar/api';

type DetailValue = AuditRecord['details'][string];

/** What a caller says happened; the log adds sequence, time (unless given) and hashes. */
export interface AuditEntry {
  orgId: string;
  actor: AuditRecord['actor'];
  /** A dotted name such as `environment.create`; see `auditActions` in `@hangar/api`. */
  action: string;
  target: AuditRecord['target'];
  outcome: AuditRecord['outcome'];
  requestId: string;
  sourceAddress: string;
  /** Small scalar facts only (digests, exit codes, durations); undefined members are dropped. */
  details: Record<string, DetailValue | undefined>;
  /** When it happened; now unless given (a runner's queued records carry their own time). */
  time?: Date | string;
}

/** An entry checked and normalized, ready for a sequence number and hashes. */
export type PreparedEntry = Omit<UnhashedRecord, 'seq' | 'prevHash'>;

const maxDetails = auditLimits.detailMembers;
const maxDetailKeyLength = auditLimits.detailKeyLength;
const maxDetailTextLength = auditLimits.detailText;
const checkRecord = validator(AuditRecordSchema, 'audit record');
// A kind may hold dashes (`ssh-key.add`); each later part is a verb or a noun in snake case,
// its words joined by single dashes where the action list says so (`environment.break-glass`).
const actionPattern = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9_]*(-[a-z0-9_]+)*)+$/;
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `audit record ${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** Parses an RFC 3339 time into its UTC ISO form, or undefined when it is not one. */
export function parseRfc3339(text: string): { iso: string; ms: number } | undefined {
  if (!rfc3339.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return { iso: new Date(ms).toISOString(), ms };
}

function normalizeTime(time: Date | string | undefined): string {
  if (time === undefined) return new Date().toISOString();
  if (time instanceof Date) {
    if (Number.isNaN(time.getTime())) throw invalid('time', 'is an invalid Date');
    return time.toISOString();
  }
  const parsed = parseRfc3339(time);
  if (!parsed) throw invalid('time', 'must be an RFC 3339 time such as 2024-05-01T12:00:00Z');
  return parsed.iso;
}

function isDetailValue(value: unknown): value is DetailValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  return typeof value === 'number' && Number.isFinite(value);
}

/** Keeps only scalar members: audit details never hold structured values or content. */
function normalizeDetails(details: unknown): AuditRecord['details'] {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    throw invalid('details', 'must be an object of scalar values');
  }
  const out: [string, DetailValue][] = [];
  const entries = Object.entries(details as Record<string, unknown>);
  if (entries.length > maxDetails) {
    throw invalid('details', `has ${entries.length} members; at most ${maxDetails} are kept`);
  }
  for (const [key, value] of entries) {
    if (key === '' || key.length > maxDetailKeyLength) {
      throw invalid(`details.${key}`, `needs a name of 1 to ${maxDetailKeyLength} characters`);
    }
    if (value === undefined) continue;
    if (typeof value === 'string' && value.length > maxDetailTextLength) {
      throw invalid(
        `details.${key}`,
        `is longer than ${maxDetailTextLength} characters; record a digest of it instead`,
      );
    }
    if (!isDetailValue(value)) {
      const what = typeof value === 'number' ? 'a non-finite number' : `of type ${typeof value}`;
      throw invalid(
        `details.${key}`,
        `is ${Array.isArray(value) ? 'an array' : what}; audit details hold only strings, ` +
          'finite numbers, booleans or null, never structured values, secrets or content',
      );
    }
    out.push([key, value]);
  }
  return Object.fromEntries(out);
}

/** Drops undefined members; anything not an object is left for the schema check to refuse. */
function withoutUndefined<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/**
 * Every string must survive storage unchanged, or the record's hash would no longer match: no
 * NUL (PostgreSQL's TEXT cannot hold it) and no lone UTF-16 surrogate (stored as U+FFFD). The
 * rule is `unstorableTextReason` from `@hangar/api`, which the runner's queue also meets.
 */
function checkStorableText(prepared: PreparedEntry): void {
  const strings: [string, string][] = [
    ['orgId', prepared.orgId],
    ['actor.id', prepared.actor.id],
    ['actor.onBehalfOf', prepared.actor.onBehalfOf ?? ''],
    ['requestId', prepared.requestId],
    ['sourceAddress', prepared.sourceAddress],
    ['target.kind', prepared.target?.kind ?? ''],
    ['target.id', prepared.target?.id ?? ''],
  ];
  for (const [key, value] of Object.entries(prepared.details)) {
    strings.push([`details.${key}`, key]);
    if (typeof value === 'string') strings.push([`details.${key}`, value]);
  }
  for (const [field, text] of strings) {
    const reason = unstorableTextReason(text);
    if (reason) throw invalid(field, reason);
  }
}

/** Checks an entry against the record schema and normalizes it; throws `invalid_request`. */
export function prepareEntry(entry: AuditEntry): PreparedEntry {
  if (typeof entry.orgId !== 'string' || entry.orgId === '') {
    throw invalid('orgId', 'must name the organization whose chain the record joins');
  }
  if (typeof entry.action !== 'string' || !actionPattern.test(entry.action)) {
    throw invalid('action', 'must be a dotted lower-case name such as environment.create');
  }
  const prepared: PreparedEntry = {
    orgId: entry.orgId,
    time: normalizeTime(entry.time),
    actor: withoutUndefined(entry.actor),
    action: entry.action,
    target: entry.target === null ? null : withoutUndefined(entry.target),
    outcome: entry.outcome,
    requestId: entry.requestId,
    sourceAddress: entry.sourceAddress,
    details: normalizeDetails(entry.details),
  };
  checkRecord({ ...prepared, seq: 1, prevHash: genesisHash, hash: genesisHash });
  checkStorableText(prepared);
  return prepared;
}
