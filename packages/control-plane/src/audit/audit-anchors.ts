import { open, readFile } from 'node:fs/promises';
import { HangarError, type AuditCheckpoint } from '@hangar/api';

/** A point of an organization's chain that a signed checkpoint covered. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isAnchor(value: unknown): value is AuditCheckpoint {
  const line = value as Partial<AuditCheckpoint> | null;
  return (
    typeof line?.orgId === 'string' &&
    typeof line.hash === 'string' &&
    typeof line.seq === 'number' &&
    Number.isSafeInteger(line.seq) &&
    line.seq >= 1
  );
}

/**
 * The newest signed checkpoint of each organization, kept outside the database in an
 * append-only JSON-lines file beside the control plane's key (mode 0600), so that someone who
 * can rewrite the database cannot also move back what the control plane remembers signing.
 * A line is written only once its checkpoint is committed; a line a crash cut short is ignored.
 */
export class AuditAnchors {
  private latest: Promise<Map<string, ChainPoint>> | undefined;
  private needsNewline = false;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The newest anchored point of `orgId`'s chain, or undefined before its first. */
  async of(orgId: string): Promise<ChainPoint | undefined> {
    return (await this.load()).get(orgId);
  }

  /** Records a committed checkpoint durably; an older one than the newest anchored is skipped. */
  add(checkpoint: AuditCheckpoint): Promise<void> {
    const run = async () => {
      const latest = await this.load();
      const known = latest.get(checkpoint.orgId);
      if (known && known.seq >= checkpoint.seq) return;
      const line = `${this.needsNewline ? '\n' : ''}${JSON.stringify(checkpoint)}\n`;
      this.needsNewline = true;
      const file = await open(this.path, 'a', 0o600);
      try {
        await file.write(line);
        await file.sync();
      } finally {
        await file.close();
      }
      this.needsNewline = false;
      latest.set(checkpoint.orgId, { seq: checkpoint.seq, hash: checkpoint.hash });
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result.catch((error: unknown) => {
      throw new HangarError(
        'audit_unavailable',
        `the signed audit checkpoint ${checkpoint.seq} of ${checkpoint.orgId} could not be ` +
          `written to ${this.path}: ${reasonOf(error)}; check that the control plane's data ` +
          'directory is writable and has space, then retry',
        { cause: error },
      );
    });
  }

  private load(): Promise<Map<string, ChainPoint>> {
    this.latest ??= this.read().catch((error: unknown) => {
      this.latest = undefined;
      throw new HangarError(
        'audit_unavailable',
        `the audit anchor file ${this.path} could not be read: ${reasonOf(error)}; no ` +
          "checkpoint is signed until it can be. Check the file's owner and mode (0600)",
        { cause: error },
      );
    });
    return this.latest;
  }

  private async read(): Promise<Map<string, ChainPoint>> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    this.needsNewline = text.length > 0 && !text.endsWith('\n');
    const latest = new Map<string, ChainPoint>();
    for (const line of text.split('\n')) {
      const anchor = parseLine(line);
      if (!anchor) continue;
      const known = latest.get(anchor.orgId);
      if (!known || known.seq < anchor.seq) {
        latest.set(anchor.orgId, { seq: anchor.seq, hash: anchor.hash });
      }
    }
    return latest;
  }
}

function parseLine(line: string): AuditCheckpoint | undefined {
  if (!line.trim()) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isAnchor(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
