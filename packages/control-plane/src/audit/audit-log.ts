import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  HangarError,
  genesisHash,
  hashRecord,
  signCheckpoint,
  type AuditCheckpoint,
  type AuditExport,
  type AuditQuery,
  type AuditRecord,
} from '@hangar/api';
import type { Database, Queryable } from '../storage/database.js';
import { prepareEntry, type AuditEntry, type PreparedEntry } from './audit-entry.js';
import { encodeCursor, selectAuditPage } from './audit-query.js';
import {
  insertCheckpoint,
  insertRecord,
  toCheckpoint,
  toRecord,
  type AuditRow,
  type CheckpointRow,
  type HeadRow,
} from './audit-rows.js';

export type { AuditEntry } from './audit-entry.js';

export interface AuditLogOptions {
  db: Database;
  /** The control plane's Ed25519 private key, which signs checkpoints. */
  signingKey: KeyObject;
  /** Sign a checkpoint every this many records of an organization (default 100). */
  checkpointEvery?: number;
}

export interface AuditQueryResult {
  records: AuditRecord[];
  /** Present when more records match; pass it back as `cursor` for the next page. */
  nextCursor?: string;
}

export const defaultCheckpointEvery = 100;

/** Errors `record` rethrows as they are; any other failure becomes `audit_unavailable`. */
const passThrough: ReadonlySet<string> = new Set(['audit_unavailable', 'invalid_request']);

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The append-only audit log: one hash chain per organization, with a signed checkpoint of the
 * chain's head every `checkpointEvery` records. Appends run inside the caller's transaction, so
 * an action whose record cannot be written is rolled back with it (fail closed).
 */
export class AuditLog {
  readonly publicKey: string;
  private readonly db: Database;
  private readonly signingKey: KeyObject;
  private readonly checkpointEvery: number;

  constructor(options: AuditLogOptions) {
    const { signingKey } = options;
    if (signingKey.type !== 'private' || signingKey.asymmetricKeyType !== 'ed25519') {
      throw new HangarError('internal', 'the audit log signs with an Ed25519 private key');
    }
    const every = options.checkpointEvery ?? defaultCheckpointEvery;
    if (!Number.isSafeInteger(every) || every < 1) {
      throw new HangarError('internal', `checkpointEvery must be a positive integer, not ${every}`);
    }
    this.db = options.db;
    this.signingKey = signingKey;
    this.checkpointEvery = every;
    const jwk = createPublicKey(signingKey).export({ format: 'jwk' });
    this.publicKey = jwk.x ?? '';
  }

  /**
   * Appends one record inside the caller's transaction `tx` and returns it. Throws
   * `invalid_request` for a malformed entry and `audit_unavailable` when the record cannot be
   * stored; either way the caller's transaction must (and, by rethrowing, will) roll back.
   */
  async append(tx: Queryable, entry: AuditEntry): Promise<AuditRecord> {
    const prepared = prepareEntry(entry);
    try {
      return await this.appendPrepared(tx, prepared);
    } catch (error: unknown) {
      throw new HangarError(
        'audit_unavailable',
        `the audit record for ${prepared.action} could not be written, so the action was ` +
          `refused: ${reasonOf(error)}; check the control plane's database, then retry`,
        { cause: error },
      );
    }
  }

  /** Appends one record in a transaction of its own: for events that change nothing else. */
  async record(entry: AuditEntry): Promise<AuditRecord> {
    try {
      return await this.db.transaction((tx) => this.append(tx, entry));
    } catch (error: unknown) {
      if (error instanceof HangarError && passThrough.has(error.code)) throw error;
      throw new HangarError(
        'audit_unavailable',
        `the audit record for ${entry.action} could not be committed: ${reasonOf(error)}; ` +
          "check the control plane's database, then retry",
        { cause: error },
      );
    }
  }

  /** Signs the organization's current head now; returns the existing checkpoint if it has one. */
  checkpoint(orgId: string): Promise<AuditCheckpoint | null> {
    return this.db.transaction(async (tx) => {
      const head = await this.readHead(tx, orgId);
      if (!head || head.seq === 0) return null;
      const existing = await tx.query<CheckpointRow>(
        'SELECT * FROM audit_checkpoints WHERE org_id = ? AND seq = ?',
        [orgId, head.seq],
      );
      if (existing[0]) return toCheckpoint(existing[0]);
      return this.sign(tx, { orgId, seq: head.seq, hash: head.hash });
    });
  }

  /** The newest record's sequence number and hash, or null before the first record. */
  async head(orgId: string): Promise<HeadRow | null> {
    const rows = await this.db.query<HeadRow>(
      'SELECT seq, hash FROM audit_heads WHERE org_id = ? AND seq > 0',
      [orgId],
    );
    return rows[0] ?? null;
  }

  /**
   * One page of records, oldest first (ascending sequence number), so that paging with
   * `nextCursor` sees every record once even while new ones arrive. Filters: `actor` (actor id),
   * `action` (exact, or a prefix such as `environment.*`), `target` (target id), `since`
   * (inclusive) and `until` (exclusive) as RFC 3339 times, `limit` (default 100, at most 1000).
   */
  async query(orgId: string, query: AuditQuery = {}): Promise<AuditQueryResult> {
    const select = selectAuditPage(orgId, query);
    const rows = await this.db.query<AuditRow>(select.sql, select.params);
    const records = rows.slice(0, select.limit).map(toRecord);
    const last = records.at(-1);
    if (rows.length > select.limit && last) {
      return { records, nextCursor: encodeCursor(last.seq) };
    }
    return { records };
  }

  /**
   * Every record (ascending) and every checkpoint of an organization, with the public key, for
   * offline verification. Checkpoints are read first, so each one names a record also read.
   */
  async export(orgId: string): Promise<AuditExport> {
    // Known gap: the whole chain is read into memory; a very long chain needs a streamed export.
    const checkpointRows = await this.db.query<CheckpointRow>(
      'SELECT * FROM audit_checkpoints WHERE org_id = ? ORDER BY seq',
      [orgId],
    );
    const rows = await this.db.query<AuditRow>(
      'SELECT * FROM audit_records WHERE org_id = ? ORDER BY seq',
      [orgId],
    );
    return {
      orgId,
      publicKey: this.publicKey,
      records: rows.map(toRecord),
      checkpoints: checkpointRows.map(toCheckpoint),
    };
  }

  private async appendPrepared(tx: Queryable, prepared: PreparedEntry): Promise<AuditRecord> {
    const head = await this.lockHead(tx, prepared.orgId);
    const unhashed = { ...prepared, seq: head.seq + 1, prevHash: head.hash };
    const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed) };
    await insertRecord(tx, record);
    await tx.execute('UPDATE audit_heads SET seq = ?, hash = ? WHERE org_id = ?', [
      record.seq,
      record.hash,
      record.orgId,
    ]);
    if (record.seq % this.checkpointEvery === 0) {
      await this.sign(tx, { orgId: record.orgId, seq: record.seq, hash: record.hash });
    }
    return record;
  }

  /**
   * Reads and locks the head row, creating it (sequence 0, genesis hash) for an organization's
   * first record. Concurrent first appends both insert with ON CONFLICT DO NOTHING; the loser
   * waits for the winner and then locks the row the winner wrote.
   */
  private async lockHead(tx: Queryable, orgId: string): Promise<HeadRow> {
    const head = await this.readHead(tx, orgId);
    if (head) return head;
    await tx.execute(
      `INSERT INTO audit_heads (org_id, seq, hash) VALUES (?, 0, ?)
       ON CONFLICT (org_id) DO NOTHING`,
      [orgId, genesisHash],
    );
    const created = await this.readHead(tx, orgId);
    if (!created) throw new Error(`the audit head of ${orgId} could not be created`);
    return created;
  }

  private async readHead(tx: Queryable, orgId: string): Promise<HeadRow | undefined> {
    const rows = await tx.query<HeadRow>(
      `SELECT seq, hash FROM audit_heads WHERE org_id = ? ${this.db.forUpdate}`,
      [orgId],
    );
    return rows[0];
  }

  private async sign(
    tx: Queryable,
    head: { orgId: string; seq: number; hash: string },
  ): Promise<AuditCheckpoint> {
    const checkpoint = signCheckpoint({ ...head, time: new Date().toISOString() }, this.signingKey);
    await insertCheckpoint(tx, checkpoint);
    return checkpoint;
  }
}
