import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HangarError,
  RunnerAuditRecordSchema,
  runnerAuditActions,
  runnerAuditDetailMembers,
  storableAuditFields,
  validator,
  type RunnerAuditRecord,
} from '@hangar/api';

const checkRecord = validator(RunnerAuditRecordSchema, 'queued audit record');

export type AuditDraft = Omit<RunnerAuditRecord, 'localSeq' | 'time' | 'details'> & {
  time?: string;
  /** Scalars only; undefined members are dropped. */
  details: Record<string, RunnerAuditRecord['details'][string] | undefined>;
};

/**
 * A record the control plane can always store: every free-text field made storable by the rule
 * the control plane checks (`storableAuditFields`: no NUL, control characters or lone
 * surrogates, cut to the schema's lengths, at most as many details as leave room for the
 * runner's id), then checked against the protocol's schema. Text often comes from a request
 * (an environment id in a URL, a path in a query), so it is never trusted to be clean.
 */
function storableRecord(
  record: Omit<RunnerAuditRecord, 'details'> & AuditDraft,
): RunnerAuditRecord {
  if (!(runnerAuditActions as readonly string[]).includes(record.action)) {
    throw new HangarError(
      'internal',
      `a runner cannot record the action ${record.action}; it reports only ` +
        runnerAuditActions.join(', '),
    );
  }
  return checkRecord(storableAuditFields(record, { maxDetailMembers: runnerAuditDetailMembers }));
}

/**
 * Audit records the runner made, kept on disk until the control plane acknowledges them. Each has
 * a local sequence number that never repeats, so a batch resent after a lost acknowledgement is
 * stored once. Every record is made storable before it is queued (and again when an older
 * queue is loaded), so none can stop the queue from draining. Appends are serialized; an append
 * that cannot be written rejects, and the caller refuses the action (fail closed).
 */
export class AuditQueue {
  private records: RunnerAuditRecord[] = [];
  private lastSeq = 0;
  private ackedSeq = 0;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<AuditQueue> {
    const queue = new AuditQueue(dir);
    await queue.load();
    return queue;
  }

  private get queuePath() {
    return join(this.dir, 'audit-queue.jsonl');
  }

  private get ackPath() {
    return join(this.dir, 'audit-acked.json');
  }

  private async load(): Promise<void> {
    this.ackedSeq = await readAcked(this.ackPath);
    const text = await readFile(this.queuePath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    // The piece after the last newline is empty, or a line a crash cut mid-write, which never
    // counted as written; either way it is dropped.
    for (const line of text.split('\n').slice(0, -1)) {
      if (!line) continue;
      const record = storableRecord(checkRecord(JSON.parse(line)));
      if (record.localSeq > this.ackedSeq) this.records.push(record);
      this.lastSeq = Math.max(this.lastSeq, record.localSeq);
    }
    this.lastSeq = Math.max(this.lastSeq, this.ackedSeq);
    if (!text.endsWith('\n') && text.length > 0) await this.compact();
  }

  /** Appends one record durably enough to survive a runner crash, then returns it. */
  append(draft: AuditDraft): Promise<RunnerAuditRecord> {
    const run = async () => {
      const record = storableRecord({
        ...draft,
        time: draft.time ?? new Date().toISOString(),
        localSeq: this.lastSeq + 1,
      });
      await appendFile(this.queuePath, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      this.lastSeq = record.localSeq;
      this.records.push(record);
      return record;
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Records not yet acknowledged, oldest first, at most `limit`. */
  pending(limit = 500): RunnerAuditRecord[] {
    return this.records.slice(0, limit);
  }

  get size(): number {
    return this.records.length;
  }

  /** Drops every record up to `seq`, which the control plane has stored. */
  acknowledge(seq: number): Promise<void> {
    const run = async () => {
      if (seq <= this.ackedSeq) return;
      this.ackedSeq = seq;
      this.records = this.records.filter((record) => record.localSeq > seq);
      await writeFile(`${this.ackPath}.tmp`, JSON.stringify({ ackedSeq: seq }), { mode: 0o600 });
      await rename(`${this.ackPath}.tmp`, this.ackPath);
      await this.compact();
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async compact(): Promise<void> {
    const text = this.records.map((record) => `${JSON.stringify(record)}\n`).join('');
    await writeFile(`${this.queuePath}.tmp`, text, { mode: 0o600 });
    await rename(`${this.queuePath}.tmp`, this.queuePath);
  }
}

async function readAcked(path: string): Promise<number> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { ackedSeq?: unknown };
    return typeof parsed.ackedSeq === 'number' ? parsed.ackedSeq : 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
