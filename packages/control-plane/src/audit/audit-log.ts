import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  HangarError,
  genesisHash,
  hashRecord,
  signCheckpoint,
  verifyCheckpointSignature,
  type AuditCheckpoint,
  type AuditExport,
  type AuditQuery,
  type AuditRecord,
} from '@hangar/api';
import type { Logger } from '../logger.js';
import type { Database, Queryable } from '../storage/database.js';
import { AuditAnchors, type ChainPoint } from './audit-anchors.js';
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
import { extensionProblem, genesisPoint, notExtendingError } from './chain-extension.js';
import { columnMismatch, columnMismatchError } from './row-columns.js';

export type { AuditEntry } from './audit-entry.js';

export interface AuditLogOptions {
  db: Database;
  /** The control plane's Ed25519 private key, which signs checkpoints. */
  signingKey: KeyObject;
  /** Sign a checkpoint every this many records of an organization (default 100). */
  checkpointEvery?: number;
  /**
   * An append-only file, outside the database, that remembers the newest signed checkpoint of
   * each organization (the control plane passes `<dataDir>/audit-anchors.jsonl`). No checkpoint
   * is signed over a chain that does not extend it. Without it, a new checkpoint is checked only
   * against the newest one in the database, which someone who can edit the database can delete.
   */
  anchorPath?: string;
  /** Where a periodic checkpoint that was refused is reported. */
  logger?: Pick<Logger, 'error'>;
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
  private readonly verifyKey: KeyObject;
  private readonly checkpointEvery: number;
  private readonly anchors: AuditAnchors | undefined;
  private readonly logger: Pick<Logger, 'error'> | undefined;
  /**
   * The newest periodic checkpoint of each organization signed inside a caller's transaction,
   * with that transaction: it is anchored once it is known to be committed, never before, since
   * an anchor of a record that was rolled back would refuse every later checkpoint.
   * Known gap: such a checkpoint is anchored only when a later signing for that organization
   * finds it stored; someone who can edit the database and deletes it before then can rewrite
   * the records since the previous anchor unrefused. An after-commit hook on `Database` would
   * let it be anchored as its transaction commits.
   */
  private readonly unconfirmed = new Map<string, { checkpoint: AuditCheckpoint; tx: Queryable }>();

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
    this.anchors = options.anchorPath ? new AuditAnchors(options.anchorPath) : undefined;
    this.logger = options.logger;
    this.verifyKey = createPublicKey(signingKey);
    const jwk = this.verifyKey.export({ format: 'jwk' });
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
    let handle: Queryable | undefined;
    let record: AuditRecord;
    try {
      record = await this.db.transaction((tx) => {
        handle = tx;
        return this.append(tx, entry);
      });
    } catch (error: unknown) {
      if (error instanceof HangarError && passThrough.has(error.code)) throw error;
      throw new HangarError(
        'audit_unavailable',
        `the audit record for ${entry.action} could not be committed: ${reasonOf(error)}; ` +
          "check the control plane's database, then retry",
        { cause: error },
      );
    }
    await this.anchorCommitted(handle);
    return record;
  }

  /**
   * Signs the organization's current head now, or returns the checkpoint it already has, after
   * checking that the stored chain still extends the last anchored checkpoint (before the first
   * anchor, the newest signed one in the database): every record from there to the head. Throws
   * `audit_unavailable`, signing nothing, when it does not. The new checkpoint is anchored.
   */
  async checkpoint(orgId: string): Promise<AuditCheckpoint | null> {
    const checkpoint = await this.db.transaction(async (tx) => {
      const head = await this.readHead(tx, orgId);
      if (!head || head.seq === 0) return null;
      await this.anchorConfirmed(tx, orgId);
      const anchor = await this.anchors?.of(orgId);
      const from = anchor ?? (await this.newestSigned(tx, orgId, 0, head.seq)) ?? genesisPoint;
      const problem = await extensionProblem(tx, { orgId, from, head });
      if (problem) throw notExtendingError(orgId, from, problem);
      const existing = await tx.query<CheckpointRow>(
        'SELECT * FROM audit_checkpoints WHERE org_id = ? AND seq = ?',
        [orgId, head.seq],
      );
      if (existing[0]) return this.existingCheckpoint(toCheckpoint(existing[0]), head);
      return this.sign(tx, { orgId, seq: head.seq, hash: head.hash });
    });
    if (checkpoint) await this.anchors?.add(checkpoint);
    return checkpoint;
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
    const page = rows.slice(0, select.limit);
    for (const row of page) {
      const mismatch = columnMismatch(row);
      if (mismatch) throw columnMismatchError(orgId, mismatch);
    }
    const records = page.map(toRecord);
    const last = records.at(-1);
    if (rows.length > select.limit && last) {
      return { records, nextCursor: encodeCursor(last.seq) };
    }
    return { records };
  }

  /**
   * Every record (ascending) and every checkpoint of an organization, with the public key, for
   * offline verification. Checkpoints are read first, so each one names a record also read.
   * Refuses (`audit_unavailable`) when a record's query columns contradict its hashed contents,
   * which offline verification cannot see; a record whose JSON no longer parses is exported, for
   * verification to name as edited.
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
    for (const row of rows) {
      const mismatch = columnMismatch(row);
      if (mismatch && !mismatch.unreadable) throw columnMismatchError(orgId, mismatch);
    }
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
    if (record.seq % this.checkpointEvery === 0) await this.signPeriodic(tx, record);
    return record;
  }

  /**
   * The periodic checkpoint, inside the caller's transaction, checked from the newest signed
   * checkpoint in the database (or the anchor, when that one is missing or not ours). A chain
   * that does not extend it is reported and left unsigned: the record itself is kept, and the
   * next export refuses loudly.
   */
  private async signPeriodic(tx: Queryable, record: AuditRecord): Promise<void> {
    const { orgId } = record;
    const head = { seq: record.seq, hash: record.hash };
    let anchor: ChainPoint | undefined;
    try {
      await this.anchorConfirmed(tx, orgId);
      anchor = await this.anchors?.of(orgId);
    } catch (error: unknown) {
      if (!(error instanceof HangarError)) throw error;
      this.logger?.error({ err: error, orgId, seq: record.seq }, 'periodic checkpoint not signed');
      return;
    }
    const signed = await this.newestSigned(tx, orgId, anchor?.seq ?? 0, head.seq);
    const from = signed ?? anchor ?? genesisPoint;
    const problem = await extensionProblem(tx, { orgId, from, head });
    if (problem) {
      const error = notExtendingError(orgId, from, problem);
      this.logger?.error({ err: error, orgId, seq: record.seq }, 'periodic checkpoint not signed');
      return;
    }
    const checkpoint = await this.sign(tx, { orgId, ...head });
    if (this.anchors) this.unconfirmed.set(orgId, { checkpoint, tx });
  }

  /** The newest checkpoint stored for `orgId` within [minSeq, maxSeq], if this key signed it. */
  private async newestSigned(
    tx: Queryable,
    orgId: string,
    minSeq: number,
    maxSeq: number,
  ): Promise<ChainPoint | undefined> {
    const rows = await tx.query<CheckpointRow>(
      `SELECT * FROM audit_checkpoints WHERE org_id = ? AND seq >= ? AND seq <= ?
       ORDER BY seq DESC LIMIT 1`,
      [orgId, minSeq, maxSeq],
    );
    const checkpoint = rows[0] ? toCheckpoint(rows[0]) : undefined;
    if (!checkpoint || !verifyCheckpointSignature(checkpoint, this.verifyKey)) return undefined;
    return { seq: checkpoint.seq, hash: checkpoint.hash };
  }

  /** A stored checkpoint of the head, if it is this key's signature over this head. */
  private existingCheckpoint(checkpoint: AuditCheckpoint, head: ChainPoint): AuditCheckpoint {
    if (checkpoint.hash === head.hash && verifyCheckpointSignature(checkpoint, this.verifyKey)) {
      return checkpoint;
    }
    throw new HangarError(
      'audit_unavailable',
      `the checkpoint stored for seq ${checkpoint.seq} of ${checkpoint.orgId} is not this ` +
        "control plane's signature over that record, so the database was edited; compare a " +
        "saved export with `hangar audit verify` and restore the control plane's database " +
        'from a trusted copy',
    );
  }

  /**
   * Anchors the organization's unconfirmed periodic checkpoint if another transaction made it
   * and it is stored: the head is locked, so that transaction has ended, and it committed.
   */
  private async anchorConfirmed(tx: Queryable, orgId: string): Promise<void> {
    const pending = this.unconfirmed.get(orgId);
    if (!pending || pending.tx === tx || !this.anchors) return;
    this.unconfirmed.delete(orgId);
    const rows = await tx.query<{ signature: string }>(
      'SELECT signature FROM audit_checkpoints WHERE org_id = ? AND seq = ?',
      [orgId, pending.checkpoint.seq],
    );
    if (rows[0]?.signature === pending.checkpoint.signature) {
      await this.anchors.add(pending.checkpoint);
    }
  }

  /** Anchors the periodic checkpoints signed in `tx`, which has just committed. */
  private async anchorCommitted(tx: Queryable | undefined): Promise<void> {
    for (const [orgId, pending] of this.unconfirmed) {
      if (pending.tx !== tx || !this.anchors) continue;
      // A failed write leaves it unconfirmed, to be anchored by the next checkpoint.
      await this.anchors
        .add(pending.checkpoint)
        .then(() => this.unconfirmed.get(orgId) === pending && this.unconfirmed.delete(orgId))
        .catch(() => undefined);
    }
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
