import pg from 'pg';
import type { Logger } from 'pino';
import type { Database, Queryable, Row, SqlValue } from './database.js';
import { toNumberedPlaceholders } from './placeholders.js';
import { connectionError, isConnectionFailure } from './postgres-errors.js';
import { assertOpen, closedDatabaseError, type TransactionScope } from './serial-queue.js';

export { isPostgresUniqueViolation, postgresUniqueViolationCode } from './postgres-errors.js';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections the pool opens at once. */
  max?: number;
  /** How long to wait for a new connection before failing. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

const defaultMaxConnections = 10;
const defaultConnectTimeoutMs = 10_000;
const int8Oid = 20;
const sqlCacheSize = 512;

/**
 * BIGINT columns (milliseconds, counters) come back as JS numbers, as they do from SQLite. Every
 * value Hangar stores in one is far below 2^53, so the conversion is exact.
 */
function parseInt8(text: string): number {
  return Number(text);
}

const defaultParser = pg.types.getTypeParser as (oid: number, format: string) => unknown;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format = 'text'): unknown =>
    oid === int8Oid && format === 'text'
      ? parseInt8
      : defaultParser(oid, format)) as typeof pg.types.getTypeParser,
};

class SqlCache {
  private readonly converted = new Map<string, string>();

  get(sql: string): string {
    const cached = this.converted.get(sql);
    if (cached !== undefined) return cached;
    const numbered = toNumberedPlaceholders(sql);
    if (this.converted.size >= sqlCacheSize) this.converted.clear();
    this.converted.set(sql, numbered);
    return numbered;
  }
}

type Connection = pg.PoolClient;

class Runner {
  constructor(
    private readonly sql: SqlCache,
    private readonly url: string,
  ) {}

  async query<T extends Row>(
    client: Connection,
    sql: string,
    params: readonly SqlValue[],
  ): Promise<pg.QueryResult<T>> {
    try {
      return await client.query<T>(this.sql.get(sql), [...params]);
    } catch (error: unknown) {
      throw isConnectionFailure(error) ? connectionError(error, this.url) : error;
    }
  }
}

class PostgresTransaction implements Queryable {
  constructor(
    private readonly runner: Runner,
    private readonly client: Connection,
    private readonly scope: TransactionScope,
  ) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    assertOpen(this.scope);
    return (await this.runner.query<T>(this.client, sql, params)).rows;
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    assertOpen(this.scope);
    return (await this.runner.query(this.client, sql, params)).rowCount ?? 0;
  }
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres';
  readonly forUpdate = 'FOR UPDATE';
  private readonly runner: Runner;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    this.runner = new Runner(new SqlCache(), url);
  }

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.withClient(
      async (client) => (await this.runner.query<T>(client, sql, params)).rows,
    );
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.withClient(
      async (client) => (await this.runner.query(client, sql, params)).rowCount ?? 0,
    );
  }

  /** BEGIN, `fn` on one pooled connection, then COMMIT; ROLLBACK when anything throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const scope: TransactionScope = { open: true };
    let broken: Error | undefined;
    try {
      await this.runner.query(client, 'BEGIN', []);
      const result = await fn(new PostgresTransaction(this.runner, client, scope));
      scope.open = false;
      await this.runner.query(client, 'COMMIT', []);
      return result;
    } catch (error: unknown) {
      scope.open = false;
      broken = await this.rollback(client);
      throw error;
    } finally {
      scope.open = false;
      client.release(broken);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  /** Rolls back; returns the error when even that fails, so the connection is discarded. */
  private async rollback(client: Connection): Promise<Error | undefined> {
    try {
      await client.query('ROLLBACK');
      return undefined;
    } catch (error: unknown) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private async withClient<T>(fn: (client: Connection) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  // Known gap: pg's connectionTimeoutMillis also bounds the wait for a free pooled connection,
  // so a burst of far more concurrent requests than `max` can fail after connectTimeoutMs with
  // a "cannot use PostgreSQL" error although the server is fine; a separate queue limit would
  // tell the two apart.
  private async connect(): Promise<Connection> {
    if (this.closing) throw closedDatabaseError('PostgreSQL');
    try {
      return await this.pool.connect();
    } catch (error: unknown) {
      throw connectionError(error, this.url);
    }
  }
}

/**
 * Opens a connection pool and checks, with one round trip, that the server is reachable and the
 * credentials work, so that a wrong URL fails at start-up with a message saying what to fix.
 */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? defaultMaxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
    types,
  });
  pool.on('error', (error) => {
    options.logger?.warn(
      { err: error, component: 'storage' },
      'an idle PostgreSQL connection failed; the pool opens a new one when needed',
    );
  });
  const db = new PostgresDatabase(pool, options.url);
  try {
    await db.query('SELECT 1');
  } catch (error: unknown) {
    await db.close();
    throw error;
  }
  return db;
}
