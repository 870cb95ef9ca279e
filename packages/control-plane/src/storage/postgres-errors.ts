import { HangarError } from '@hangar/api';

/** SQLSTATE of a violated UNIQUE or PRIMARY KEY constraint. */
export const postgresUniqueViolationCode = '23505';

/** SQLSTATE classes and codes that mean "no usable connection", not "bad statement". */
const connectionSqlStateClasses = ['08', '28', '3D'];
const connectionSqlStates = new Set(['53300', '57P01', '57P02', '57P03']);
const connectionErrnoCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT',
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isPostgresUniqueViolation(error: unknown): boolean {
  return codeOf(error) === postgresUniqueViolationCode;
}

/** True for failures of the connection itself: refused, lost, timed out, or not authorized. */
export function isConnectionFailure(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) {
    const message = error instanceof Error ? error.message : '';
    return /connection (terminated|timeout)|timeout expired/i.test(message);
  }
  if (connectionErrnoCodes.has(code) || connectionSqlStates.has(code)) return true;
  return connectionSqlStateClasses.some((prefix) => code.startsWith(prefix));
}

/** Where a connection string points, without its password. */
export interface PostgresTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

export function describeTarget(url: string): PostgresTarget {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username) || process.env.PGUSER || 'the current user';
  const socketHost = parsed.searchParams.get('host');
  return {
    host: socketHost ?? (parsed.hostname || 'localhost'),
    port: parsed.port || '5432',
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user,
    user,
  };
}

function hintFor(code: string | undefined, target: PostgresTarget): string {
  if (code === '28P01' || code === '28000') {
    return `check the user name and password for ${target.user} in the database URL`;
  }
  if (code === '3D000') {
    return `create the database ${target.database} (createdb ${target.database}) or fix its name`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `check the host name ${target.host}`;
  }
  if (code === '53300') return 'the server has no free connection slots; lower the pool size';
  return (
    `check that PostgreSQL is running and accepts connections on ${target.host}:${target.port}, ` +
    'and that the database URL is right'
  );
}

/** Removes the password from a message, in case a driver ever echoes it. */
function withoutPassword(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return message;
  }
  return password.length >= 4 ? message.split(password).join('[redacted]') : message;
}

/** A HangarError for a connection failure that names the server and database, never the secret. */
export function connectionError(error: unknown, url: string): HangarError {
  const target = describeTarget(url);
  const raw = error instanceof Error ? error.message : String(error);
  const reason = withoutPassword(raw || codeOf(error) || 'unknown error', url);
  return new HangarError(
    'internal',
    `cannot use PostgreSQL at ${target.host}:${target.port} (database ${target.database}, ` +
      `user ${target.user}): ${reason}; ${hintFor(codeOf(error), target)}`,
    { cause: error, details: { host: target.host, port: target.port, database: target.database } },
  );
}
