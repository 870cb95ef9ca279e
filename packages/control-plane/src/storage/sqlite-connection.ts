import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { Queryable, Row, SqlValue } from './database.js';
import { SerialQueue, assertOpen, type TransactionScope } from './serial-queue.js';

const statementCacheSize = 256;
const firstBusyRetryMs = 5;
const longestBusyRetryMs = 100;

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/** Integers are bound as SQLite INTEGER (better-sqlite3 binds every JS number as REAL). */
function bindable(params: readonly SqlValue[]): unknown[] {
  return params.map((value) => (Number.isSafeInteger(value) ? BigInt(value as number) : value));
}

/** Runs a synchronous step now, turning a throw into a rejected promise. */
export function settle<T>(step: () => T): Promise<T> {
  return new Promise((resolve) => resolve(step()));
}

/** A better-sqlite3 handle with a cache of prepared statements. */
export class Connection {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly handle: BetterSqlite3.Database) {}

  query<T extends Row>(sql: string, params: readonly SqlValue[]): T[] {
    const statement = this.prepare(sql);
    if (statement.reader) return statement.all(...bindable(params)) as T[];
    statement.run(...bindable(params));
    return [];
  }

  execute(sql: string, params: readonly SqlValue[]): number {
    return this.prepare(sql).run(...bindable(params)).changes;
  }

  private prepare(sql: string): Statement {
    const cached = this.statements.get(sql);
    if (cached) return cached;
    const statement = this.handle.prepare<unknown[], unknown>(sql);
    if (this.statements.size >= statementCacheSize) {
      const oldest = this.statements.keys().next();
      if (!oldest.done) this.statements.delete(oldest.value);
    }
    this.statements.set(sql, statement);
    return statement;
  }
}

/** The handle a transaction's callback gets; it refuses statements once the transaction ends. */
export class SqliteTransaction implements Queryable {
  constructor(
    private readonly connection: Connection,
    private readonly scope: TransactionScope,
  ) {}

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return settle(() => {
      assertOpen(this.scope);
      return this.connection.query<T>(sql, params);
    });
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return settle(() => {
      assertOpen(this.scope);
      return this.connection.execute(sql, params);
    });
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Retries a step that failed only because another process holds the write lock, waiting
 * between attempts without blocking the event loop, until `timeoutMs` has passed.
 */
export async function retryWhileBusy<T>(step: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = firstBusyRetryMs; ; delayMs = Math.min(delayMs * 2, longestBusyRetryMs)) {
    try {
      return step();
    } catch (error: unknown) {
      if (!isBusy(error) || Date.now() + delayMs > deadline) throw error;
    }
    await sleep(delayMs);
  }
}

/**
 * The turn-taking shared by every connection of this process to one database file: one queue,
 * and the marker of the transaction whose callback is running. Connections to one file thus
 * never wait on each other's locks inside a synchronous call, which would stall the process.
 */
export interface Lane {
  queue: SerialQueue;
  insideTransaction: AsyncLocalStorage<TransactionScope>;
  release(): void;
}

const lanesByFile = new Map<string, { lane: Lane; users: number }>();

function newLane(release: () => void): Lane {
  return { queue: new SerialQueue(), insideTransaction: new AsyncLocalStorage(), release };
}

/** The lane of a file (by its real path), or a private one for an in-memory database. */
export function acquireLane(realPath: string | undefined): Lane {
  if (realPath === undefined) return newLane(() => undefined);
  const shared = lanesByFile.get(realPath);
  if (shared) {
    shared.users += 1;
    return shared.lane;
  }
  const entry = {
    users: 1,
    lane: newLane(() => {
      entry.users -= 1;
      if (entry.users === 0) lanesByFile.delete(realPath);
    }),
  };
  lanesByFile.set(realPath, entry);
  return entry.lane;
}
