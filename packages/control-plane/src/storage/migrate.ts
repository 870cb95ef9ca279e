import { HangarError } from '@hangar/api';
import type { Database, Queryable } from './database.js';
import { migrations as knownMigrations, type Migration } from './migrations.js';

/**
 * Key of the PostgreSQL advisory lock held, for one transaction at a time, by whoever migrates,
 * so that two control planes starting against one server never apply a migration twice. (SQLite
 * needs none: its write transactions, BEGIN IMMEDIATE, already exclude each other.)
 */
export const migrationLockKey = 0x48414e47; // "HANG"

export interface MigrateOptions {
  /** The migrations this build knows; the released list unless a test passes its own. */
  migrations?: readonly Migration[];
}

export interface MigrateResult {
  /** Versions applied by this call, in order; empty when the schema was already current. */
  applied: number[];
  /** The schema version after this call. */
  version: number;
}

type AppliedRow = { version: number; name: string };

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

function checkOrder(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    const previous = list[index - 1];
    if (!Number.isSafeInteger(migration.version) || migration.version < 1) {
      throw new HangarError('internal', `migration ${migration.name} has no positive version`);
    }
    if (previous && migration.version <= previous.version) {
      throw new HangarError(
        'internal',
        `migration ${migration.version} (${migration.name}) comes after ${previous.version}; ` +
          'versions must increase',
      );
    }
  });
}

async function lock(db: Database, tx: Queryable): Promise<void> {
  if (db.kind === 'postgres')
    await tx.execute('SELECT pg_advisory_xact_lock(?)', [migrationLockKey]);
}

async function appliedVersions(tx: Queryable): Promise<AppliedRow[]> {
  return tx.query<AppliedRow>('SELECT version, name FROM schema_migrations ORDER BY version');
}

/** Refuses a database that a newer build migrated, or whose history differs from this build's. */
function checkHistory(applied: readonly AppliedRow[], list: readonly Migration[]): void {
  const byVersion = new Map(list.map((migration) => [migration.version, migration]));
  const newest = list.at(-1)?.version ?? 0;
  const current = applied.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new HangarError(
      'internal',
      `the database schema is at version ${current}, newer than this build knows (${newest}); ` +
        'run the Hangar release that migrated it, or a newer one',
    );
  }
  for (const row of applied) {
    const known = byVersion.get(row.version);
    if (!known || known.name !== row.name) {
      throw new HangarError(
        'internal',
        `the database records migration ${row.version} as "${row.name}", but this build ` +
          `${known ? `calls it "${known.name}"` : 'has no such migration'}; ` +
          'this database was migrated by a different build of Hangar',
      );
    }
  }
}

async function applyOne(db: Database, migration: Migration, list: readonly Migration[]) {
  return db.transaction(async (tx) => {
    await lock(db, tx);
    const applied = await appliedVersions(tx);
    checkHistory(applied, list);
    if (applied.some((row) => row.version === migration.version)) return false;
    for (const statement of migration.statements) await tx.execute(statement);
    await tx.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
      migration.version,
      migration.name,
      Date.now(),
    ]);
    return true;
  });
}

/**
 * Brings the schema up to date: applies, in order and each in its own transaction, every
 * migration not yet recorded in `schema_migrations`. Safe to call from several processes at once
 * and as often as wanted. Refuses, changing nothing, a database migrated by a newer build.
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const list = options.migrations ?? knownMigrations;
  checkOrder(list);

  const pending = await db.transaction(async (tx) => {
    await lock(db, tx);
    await tx.execute(createTable);
    const applied = await appliedVersions(tx);
    checkHistory(applied, list);
    const done = new Set(applied.map((row) => row.version));
    return list.filter((migration) => !done.has(migration.version));
  });

  const applied: number[] = [];
  for (const migration of pending) {
    if (await applyOne(db, migration, list)) applied.push(migration.version);
  }
  const version = list.at(-1)?.version ?? 0;
  return { applied, version };
}
