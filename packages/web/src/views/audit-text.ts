import type { AuditRecord } from '../audit/types.js';

/** `kind:id`, and `for <user>` when an agent acted on someone's behalf. */
export function actorText(actor: AuditRecord['actor']): string {
  const base = `${actor.kind}:${actor.id}`;
  return actor.onBehalfOf ? `${base} for ${actor.onBehalfOf}` : base;
}

export function targetText(target: AuditRecord['target']): string {
  return target ? `${target.kind}:${target.id}` : '—';
}
