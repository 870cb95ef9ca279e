import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HangarError } from '@hangar/api';
import type { Database } from './database.js';
import { openDatabase } from './open.js';

/** The PostgreSQL server the suites use; `scripts/test.mjs` starts one and sets it. */
export const testPostgresUrlVariable = 'HANGAR_TEST_POSTGRES_URL';

/** A fresh, empty database that exists until `drop`. */
export interface TestDatabaseUrl {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database, opened; `close` closes it and removes it. */
export interface TestDatabase {
  db: Database;
  url: string;
  close(): Promise<void>;
}

export interface TestBackend {
  kind: Database['kind'];
  /** Creates a fresh, empty database without opening it (for tests that start processes). */
  create(): Promise<TestDatabaseUrl>;
  /** Creates a fresh database and opens it, migrated unless `migrate` is false. */
  open(options?: { migrate?: boolean }): Promise<TestDatabase>;
}

async function openCreated(
  created: TestDatabaseUrl,
  options: { migrate?: boolean },
): Promise<TestDatabase> {
  let db: Database;
  try {
    db = await openDatabase({ url: created.url, migrate: options.migrate ?? true });
  } catch (error: unknown) {
    await created.drop();
    throw error;
  }
  let closed = false;
  return {
    db,
    url: created.url,
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
      await created.drop();
    },
  };
}

function backend(kind: Database['kind'], create: () => Promise<TestDatabaseUrl>): TestBackend {
  return { kind, create, open: async (options = {}) => openCreated(await create(), options) };
}

async function createSqlite(): Promise<TestDatabaseUrl> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-sqlite-'));
  return {
    url: `sqlite:${join(dir, 'hangar.db')}`,
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createPostgres(serverUrl: string): Promise<TestDatabaseUrl> {
  const name = `hangar_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * The backends a storage-dependent suite runs against: SQLite (a temporary file) always, and
 * PostgreSQL when HANGAR_TEST_POSTGRES_URL names a server (each database is created fresh on
 * it and dropped on close). In CI, PostgreSQL is required: a missing URL is an error, never a
 * silent skip.
 */
export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const backends = [backend('sqlite', createSqlite)];
  const serverUrl = env[testPostgresUrlVariable];
  if (serverUrl) {
    backends.push(backend('postgres', () => createPostgres(serverUrl)));
  } else if (env.CI) {
    throw new HangarError(
      'internal',
      `CI is set but ${testPostgresUrlVariable} is not, so the PostgreSQL half of the suite ` +
        'would be skipped; run the tests with `npm test` (which starts a server) or set ' +
        `${testPostgresUrlVariable}=postgres://user:password@127.0.0.1:port/postgres`,
    );
  }
  return backends;
}
