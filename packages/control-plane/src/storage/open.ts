import { HangarError } from '@hangar/api';
import type { Logger } from 'pino';
import type { Database, UniqueViolationCheck } from './database.js';
import { migrate } from './migrate.js';
import { isPostgresUniqueViolation, openPostgres } from './postgres.js';
import { isSqliteUniqueViolation, openSqlite } from './sqlite.js';

export interface OpenDatabaseOptions {
  /** `sqlite:<path>`, a plain file path, or `postgres://…` / `postgresql://…`. */
  url: string;
  logger?: Logger;
  /** Most PostgreSQL connections at once; ignored for SQLite. */
  maxConnections?: number;
  /** Apply pending migrations before returning (the default). Tools and tests may skip it. */
  migrate?: boolean;
}

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const sqlitePrefix = 'sqlite:';
const postgresSchemes = ['postgres:', 'postgresql:'];
const usage = 'use sqlite:<path>, a file path, or postgres://user:password@host:port/database';

function invalid(message: string): HangarError {
  return new HangarError('invalid_request', `${message}; ${usage}`, {
    fields: [{ field: 'database', message }],
  });
}

/** Reads a database URL into a backend and its address, rejecting what neither backend takes. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const trimmed = url.trim();
  if (trimmed === '') throw invalid('the database URL is empty');

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)/.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === sqlitePrefix) {
    const path = trimmed.slice(sqlitePrefix.length).replace(/^\/\//, '');
    if (path === '') throw invalid('the sqlite: URL names no file');
    return { kind: 'sqlite', path };
  }
  if (scheme && postgresSchemes.includes(scheme)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw invalid(
        'the PostgreSQL URL is not a valid URL (is a character in the password unescaped?)',
      );
    }
    if (!parsed.hostname && !parsed.searchParams.get('host')) {
      throw invalid('the PostgreSQL URL names no host');
    }
    return { kind: 'postgres', url: trimmed };
  }
  if (scheme && trimmed.startsWith(`${scheme}//`)) {
    throw invalid(`the database URL scheme ${scheme} is not supported`);
  }
  return { kind: 'sqlite', path: trimmed };
}

/** Opens the database a URL names and, unless told otherwise, brings its schema up to date. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const location = parseDatabaseUrl(options.url);
  const db =
    location.kind === 'sqlite'
      ? await openSqlite({ path: location.path })
      : await openPostgres({
          url: location.url,
          ...(options.maxConnections !== undefined ? { max: options.maxConnections } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
        });
  if (options.migrate === false) return db;
  try {
    const result = await migrate(db);
    if (result.applied.length > 0) {
      options.logger?.info(
        { component: 'storage', applied: result.applied, version: result.version },
        'database schema migrated',
      );
    }
  } catch (error: unknown) {
    await db.close();
    throw error;
  }
  return db;
}

/** True when an error is a UNIQUE or PRIMARY KEY violation, from SQLite or PostgreSQL. */
export const isUniqueViolation: UniqueViolationCheck = (error) => {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (isSqliteUniqueViolation(current) || isPostgresUniqueViolation(current)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
};
