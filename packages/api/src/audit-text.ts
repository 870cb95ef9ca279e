import type { Actor } from './schemas/common.js';

/**
 * The limits every audit record meets to be stored. The record schema states the same lengths;
 * the control plane's log refuses a record past any of them, and the runner cuts its records to
 * them before they are queued, so that whatever a runner queues can be stored.
 */
export const auditLimits = {
  actorId: 200,
  targetKind: 50,
  targetId: 200,
  requestId: 100,
  sourceAddress: 100,
  detailMembers: 32,
  detailKeyLength: 64,
  detailText: 1000,
} as const;

/** Detail members a runner may send: the control plane adds `runnerId` to each of its records. */
export const runnerAuditDetailMembers = auditLimits.detailMembers - 1;

/** The detail member that says how many members were dropped to stay within the limit. */
export const droppedDetailsKey = 'droppedDetails';

const loneSurrogate = /\p{Surrogate}/u;
const endsInHalfPair = /\p{Surrogate}$/u;

/**
 * Characters that would make a record unstorable or misleading when read: NUL and every other
 * control character (C0, DEL, C1), lone UTF-16 surrogates, line and paragraph separators and the
 * bidirectional overrides that can make logged text read differently from what it is.
 */
const unsafeCharacters = /[\p{Cc}\p{Surrogate}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Why `text` cannot be stored unchanged, or undefined when it can. PostgreSQL's TEXT cannot hold
 * NUL, and a lone surrogate would be stored as U+FFFD, so the record's hash would not match.
 */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (loneSurrogate.test(text)) return 'is not well-formed Unicode';
  return undefined;
}

function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * `text` made storable and safe to read: unsafe characters become `\u` escapes of four hex
 * digits, then the text is cut to `maxLength` UTF-16 units, ending in `…` when cut, never inside
 * a surrogate pair.
 */
export function storableAuditText(text: string, maxLength: number): string {
  const escaped = text.replace(unsafeCharacters, escapeCharacter);
  if (escaped.length <= maxLength) return escaped;
  let cut = escaped.slice(0, Math.max(0, maxLength - 1));
  if (endsInHalfPair.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function storableValue(value: unknown, maxLength: number): unknown {
  return typeof value === 'string' ? storableAuditText(value, maxLength) : value;
}

/**
 * Details made storable: names and strings as `storableAuditText`, an empty name as `(empty)`,
 * non-finite numbers as text, undefined members dropped, and at most `maxMembers` members (the
 * first ones; the last place then says how many were dropped under `droppedDetails`). Structured
 * values are left as they are, for the schema check to refuse: they are a caller's mistake.
 */
export function storableAuditDetails(
  details: Readonly<Record<string, unknown>>,
  maxMembers: number = auditLimits.detailMembers,
): Record<string, unknown> {
  const kept = new Map<string, unknown>();
  let dropped = 0;
  for (const [rawKey, rawValue] of Object.entries(details)) {
    if (rawValue === undefined) continue;
    const key = storableAuditText(rawKey, auditLimits.detailKeyLength) || '(empty)';
    const value =
      typeof rawValue === 'number' && !Number.isFinite(rawValue)
        ? String(rawValue)
        : storableValue(rawValue, auditLimits.detailText);
    if (kept.has(key)) dropped += 1;
    else kept.set(key, value);
  }
  if (dropped === 0 && kept.size <= maxMembers) return Object.fromEntries(kept);
  if (kept.delete(droppedDetailsKey)) dropped += 1;
  const entries = [...kept];
  const room = Math.max(0, maxMembers - 1);
  dropped += Math.max(0, entries.length - room);
  return Object.fromEntries([...entries.slice(0, room), [droppedDetailsKey, dropped]]);
}

/** The fields of an audit record that hold free text. */
export interface AuditTextFields {
  actor: Actor;
  target: { kind: string; id: string } | null;
  requestId: string;
  sourceAddress: string;
  details: Readonly<Record<string, unknown>>;
}

/**
 * A record whose every free-text field is made storable (see `storableAuditText` and
 * `storableAuditDetails`), so that the control plane's log accepts it. Other fields (action,
 * outcome, time) are the caller's own and are checked by the record schema.
 */
export function storableAuditFields<T extends AuditTextFields>(
  record: T,
  options: { maxDetailMembers?: number } = {},
): Omit<T, keyof AuditTextFields> & AuditTextFields & { details: Record<string, unknown> } {
  const { actor, target } = record;
  return {
    ...record,
    actor: {
      ...actor,
      id: storableAuditText(actor.id, auditLimits.actorId),
      ...(actor.onBehalfOf === undefined
        ? {}
        : { onBehalfOf: storableAuditText(actor.onBehalfOf, auditLimits.actorId) }),
    },
    target:
      target === null
        ? null
        : {
            kind: storableAuditText(target.kind, auditLimits.targetKind),
            id: storableAuditText(target.id, auditLimits.targetId),
          },
    requestId: storableAuditText(record.requestId, auditLimits.requestId),
    sourceAddress: storableAuditText(record.sourceAddress, auditLimits.sourceAddress),
    details: storableAuditDetails(
      record.details,
      options.maxDetailMembers ?? auditLimits.detailMembers,
    ),
  };
}
