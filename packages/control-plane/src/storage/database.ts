/**
 * The one data-access seam of the control plane. SQL is written once, with `?` placeholders, in
 * the subset SQLite and PostgreSQL share; each backend adapts placeholders and types.
 *
 * Value conventions, identical in both backends: times are integers of milliseconds since the
 * epoch (BIGINT, returned as JS numbers), booleans are integers 0/1, structured values are JSON
 * text that callers parse.
 */
export type SqlValue = string | number | null;

export type Row = Record<string, SqlValue>;

export interface Queryable {
  /** Runs a statement and returns its rows (statements with RETURNING included). */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface Database extends Queryable {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * `FOR UPDATE` on PostgreSQL, empty on SQLite (whose write transactions are already
   * serialized). Appended to a SELECT that reads a row the transaction will update.
   */
  readonly forUpdate: string;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Transactions never interleave on one connection.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** True when an error is a unique-constraint violation, whichever backend raised it. */
export type UniqueViolationCheck = (error: unknown) => boolean;
