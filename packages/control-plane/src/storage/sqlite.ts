import { mkdirSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { HangarError } from '@hangar/api';
import type { Database, Queryable, Row, SqlValue } from './database.js';
import { closedDatabaseError, type TransactionScope } from './serial-queue.js';
import {
  Connection,
  SqliteTransaction,
  acquireLane,
  retryWhileBusy,
  settle,
  type Lane,
} from './sqlite-connection.js';

export interface SqliteOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  path: string;
  /** How long a statement waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

/** better-sqlite3's error codes for a violated UNIQUE or PRIMARY KEY constraint. */
export const sqliteUniqueViolationCodes: ReadonlySet<string> = new Set([
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
]);

export function isSqliteUniqueViolation(error: unknown): boolean {
  if (!(error instanceof BetterSqlite3.SqliteError)) return false;
  return sqliteUniqueViolationCodes.has(error.code);
}

const defaultBusyTimeoutMs = 5000;
/**
 * SQLite's own busy timeout, which waits inside a synchronous call and so stalls the event
 * loop; kept short, and the rest of `busyTimeoutMs` is waited out asynchronously.
 */
const inCallBusyWaitMs = 20;
const memoryPath = ':memory:';

/**
 * One better-sqlite3 connection behind a promise queue. Every statement and every transaction
 * takes its turn in the queue, so while a transaction's callback awaits, nothing else runs on the
 * connection; statements on the transaction handle run at once, inside that turn.
 */
class SqliteDatabase implements Database {
  readonly kind = 'sqlite';
  readonly forUpdate = '';
  private closed = false;

  constructor(
    private readonly connection: Connection,
    private readonly lane: Lane,
    private readonly busyTimeoutMs: number,
  ) {}

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.enqueue(() =>
      retryWhileBusy(() => this.connection.query<T>(sql, params), this.busyTimeoutMs),
    );
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.enqueue(() =>
      retryWhileBusy(() => this.connection.execute(sql, params), this.busyTimeoutMs),
    );
  }

  /** BEGIN IMMEDIATE takes the write lock up front, so the callback never meets SQLITE_BUSY. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.enqueue(async () => {
      const scope: TransactionScope = { open: true };
      const handle = this.connection.handle;
      await retryWhileBusy(() => handle.exec('BEGIN IMMEDIATE'), this.busyTimeoutMs);
      try {
        const result = await this.lane.insideTransaction.run(scope, () =>
          fn(new SqliteTransaction(this.connection, scope)),
        );
        handle.exec('COMMIT');
        return result;
      } catch (error: unknown) {
        rollbackQuietly(handle);
        throw error;
      } finally {
        scope.open = false;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lane.queue.idle();
    this.connection.handle.close();
    this.lane.release();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedDatabaseError('SQLite'));
    if (this.lane.insideTransaction.getStore()?.open) {
      return Promise.reject(
        new HangarError(
          'internal',
          'a statement ran on the SQLite database while a transaction on the same file was ' +
            'open, which would wait for itself forever; use the transaction handle given to the ' +
            'callback',
        ),
      );
    }
    return this.lane.queue.run(task);
  }
}

/** Rolls back if a transaction is still open; the caller rethrows the error that caused it. */
function rollbackQuietly(handle: BetterSqlite3.Database): void {
  if (!handle.inTransaction) return;
  try {
    handle.exec('ROLLBACK');
  } catch {
    // The connection is unusable if even ROLLBACK fails; the original error says why.
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function openHandle(path: string, busyTimeoutMs: number): BetterSqlite3.Database {
  try {
    if (path !== memoryPath) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return new BetterSqlite3(path, { timeout: busyTimeoutMs });
  } catch (error: unknown) {
    throw new HangarError(
      'internal',
      `cannot open the SQLite database at ${path}: ${reasonOf(error)}; ` +
        'check that the path names a file (not a directory) in a directory this user can write',
      { cause: error },
    );
  }
}

function openNow(options: SqliteOptions): Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? defaultBusyTimeoutMs;
  const handle = openHandle(options.path, busyTimeoutMs);
  try {
    handle.pragma('journal_mode = WAL');
    handle.pragma('foreign_keys = ON');
    handle.pragma('synchronous = NORMAL');
    handle.pragma(`busy_timeout = ${inCallBusyWaitMs}`);
  } catch (error: unknown) {
    handle.close();
    throw new HangarError(
      'internal',
      `cannot set up the SQLite database at ${options.path}: ${reasonOf(error)}; ` +
        'check that the file is a SQLite database and that no other program holds it locked',
      { cause: error },
    );
  }
  const lane = acquireLane(options.path === memoryPath ? undefined : realpathSync(options.path));
  return new SqliteDatabase(new Connection(handle), lane, busyTimeoutMs);
}

/**
 * Opens (creating if needed) a SQLite database file: WAL journal, foreign keys on,
 * `synchronous=NORMAL`, and a busy timeout for locks held by other processes.
 */
export function openSqlite(options: SqliteOptions): Promise<Database> {
  return settle(() => openNow(options));
}
