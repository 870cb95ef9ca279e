import { newId, type Actor } from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';

/** The kinds of live data-plane session the runner keeps track of. */
export type SessionKind = 'ssh' | 'terminal' | 'port' | 'sftp' | 'attach';

export interface SessionStart {
  kind: SessionKind;
  environmentId: string;
  actor: Actor;
  /** The grant's id (`jti`) the session rests on. */
  grant: string;
  requestId: string;
  sourceAddress: string;
  /** Scalars that describe the session (port, command, key fingerprint); never payload. */
  details?: Record<string, string | number | boolean | undefined>;
  /** Ends the session from outside (revoked, environment stopped); must be idempotent. */
  close: (reason: string) => void;
}

export type SessionOutcome = 'success' | 'failure' | 'denied';

/** One live session: count its bytes, then end it exactly once. */
export interface SessionHandle {
  readonly id: string;
  /** Bytes from the client into the environment. */
  addBytesIn(count: number): void;
  /** Bytes from the environment to the client. */
  addBytesOut(count: number): void;
  /** Records the end (bytes, duration, outcome); later calls do nothing. */
  end(outcome: SessionOutcome, reason?: string): Promise<void>;
}

interface Live {
  start: SessionStart;
  handle: SessionHandle;
}

/**
 * Every live SSH, terminal, port and transfer session, so that each is audited at its start and
 * end (with the bytes it moved) and can be ended from outside: when the environment stops or is
 * deleted, or when the control plane revokes an actor's access.
 */
export class SessionRegistry {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly deps: {
      audit: { append(draft: AuditDraft): Promise<unknown> };
      logger: Logger;
      /** Called on every byte movement and start: feeds the environment's last-active time. */
      onActivity?: (environmentId: string) => void;
    },
  ) {}

  /** Audits the start; rejects (and registers nothing) when the record cannot be written. */
  async open(start: SessionStart): Promise<SessionHandle> {
    const id = newId('ses');
    await this.deps.audit.append({
      actor: start.actor,
      action: 'session.start',
      target: { kind: 'environment', id: start.environmentId },
      outcome: 'success',
      requestId: start.requestId,
      sourceAddress: start.sourceAddress,
      details: { session: id, kind: start.kind, grant: start.grant, ...start.details },
    });
    const startedAt = performance.now();
    let bytesIn = 0;
    let bytesOut = 0;
    let ended = false;
    const activity = () => this.deps.onActivity?.(start.environmentId);
    activity();
    const handle: SessionHandle = {
      id,
      addBytesIn: (count) => {
        bytesIn += count;
        activity();
      },
      addBytesOut: (count) => {
        bytesOut += count;
      },
      end: async (outcome, reason) => {
        if (ended) return;
        ended = true;
        this.live.delete(id);
        await this.deps.audit
          .append({
            actor: start.actor,
            action: 'session.end',
            target: { kind: 'environment', id: start.environmentId },
            outcome,
            requestId: start.requestId,
            sourceAddress: start.sourceAddress,
            details: {
              session: id,
              kind: start.kind,
              bytesIn,
              bytesOut,
              durationMs: Math.round(performance.now() - startedAt),
              reason: reason?.slice(0, 200),
            },
          })
          .catch((error: unknown) =>
            this.deps.logger.error({ err: error, session: id }, 'auditing a session end failed'),
          );
      },
    };
    this.live.set(id, { start, handle });
    return handle;
  }

  /** Ends every live session matching the filter; returns how many were asked to close. */
  closeWhere(
    filter: { environmentId?: string; actorId?: string; kind?: SessionKind },
    reason: string,
  ): number {
    let count = 0;
    for (const { start } of [...this.live.values()]) {
      if (filter.environmentId !== undefined && start.environmentId !== filter.environmentId) {
        continue;
      }
      if (filter.actorId !== undefined && start.actor.id !== filter.actorId) continue;
      if (filter.kind !== undefined && start.kind !== filter.kind) continue;
      count += 1;
      try {
        start.close(reason);
      } catch (error: unknown) {
        this.deps.logger.warn({ err: error }, 'closing a session failed');
      }
    }
    return count;
  }

  /** The live sessions, for tests and status. */
  list(): Array<Pick<SessionStart, 'kind' | 'environmentId' | 'actor'> & { id: string }> {
    return [...this.live.values()].map(({ start, handle }) => ({
      id: handle.id,
      kind: start.kind,
      environmentId: start.environmentId,
      actor: start.actor,
    }));
  }
}
