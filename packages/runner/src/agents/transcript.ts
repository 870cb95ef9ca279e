import { EventEmitter } from 'node:events';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TranscriptEntry } from '@hangar/api';
import type { Masker } from '../secrets/masker.js';

export const transcriptFile = 'transcript.jsonl';

/** Where a task's files live: `<data dir>/agents/<task id>/`. */
export function taskFolder(dataDir: string, taskId: string): string {
  return join(dataDir, 'agents', taskId);
}

interface TranscriptEvents {
  line: [string, number];
  end: [];
}

/**
 * A task's transcript: JSON lines in `<task folder>/transcript.jsonl`, only on this runner,
 * each masked with the environment's secret values before it is written. Readers get what is
 * written so far, then every later line until the task ends.
 */
export class Transcript extends EventEmitter<TranscriptEvents> {
  private written = 0;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly folder: string,
    private readonly masker: () => Masker,
  ) {
    super();
    this.setMaxListeners(100);
  }

  get path(): string {
    return join(this.folder, transcriptFile);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Appends one entry with the time; writes are in order and never reject here. */
  append(entry: TranscriptEntry): void {
    const line = this.masker().maskText(
      JSON.stringify({ time: new Date().toISOString(), ...entry }),
    );
    this.chain = this.chain.then(async () => {
      try {
        await mkdir(this.folder, { recursive: true, mode: 0o700 });
        await appendFile(this.path, `${line}\n`, { mode: 0o600 });
        this.written += 1;
        this.emit('line', line, this.written);
      } catch (error) {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      }
    });
  }

  /** Resolves once every line appended so far is written; rejects with the first write error. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** No line follows: live readers end. */
  end(): void {
    this.chain = this.chain.then(() => {
      this.ended = true;
      this.emit('end');
    });
  }

  /**
   * Every line, existing then live, until the task ends or `signal` aborts. Lines written while
   * the file is read are not sent twice: each live line carries its number.
   */
  async *lines(options: { follow: boolean; signal: AbortSignal }): AsyncGenerator<string> {
    const queue: Array<{ line: string; seq: number }> = [];
    let wake: (() => void) | undefined;
    const onLine = (line: string, seq: number) => {
      queue.push({ line, seq });
      wake?.();
    };
    const onEnd = () => wake?.();
    this.on('line', onLine);
    this.on('end', onEnd);
    options.signal.addEventListener('abort', onEnd, { once: true });
    try {
      const existing = await readLines(this.path);
      yield* existing;
      if (!options.follow) return;
      let seen = existing.length;
      for (;;) {
        while (queue.length > 0) {
          const next = queue.shift() as { line: string; seq: number };
          if (next.seq <= seen) continue;
          seen = next.seq;
          yield next.line;
        }
        if (this.ended || options.signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.off('line', onLine);
      this.off('end', onEnd);
      options.signal.removeEventListener('abort', onEnd);
    }
  }
}

export async function readLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  lines.pop();
  return lines;
}
