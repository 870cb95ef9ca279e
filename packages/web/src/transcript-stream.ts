import type { Result } from './client.js';
import type { Grant } from './gateway.js';
import { parseLine, type ReadLine } from './transcript.js';

/** Where a followed transcript is: reading it, waiting to read it again, done, or refused. */
export type FollowStatus =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; reason: string }
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

export interface FollowOptions {
  taskId: string;
  /** A fresh grant (op `agent`) for the task's environment; asked for before each connection. */
  grant: () => Promise<Result<Grant>>;
  /** Whether the task still runs, as the control plane says; unsure counts as running. */
  isRunning: () => Promise<boolean>;
  onLines: (lines: ReadLine[]) => void;
  onStatus: (status: FollowStatus) => void;
  signal: AbortSignal;
  /** Lines are handed over at most this often, so a fast stream renders in batches. */
  batchMs?: number;
  /** The first wait before connecting again; it doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** Cuts a stream of text into lines; the part after the last newline waits for more. */
export class LineSplitter {
  private pending = '';

  push(text: string): string[] {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '');
  }

  end(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

/** Hands lines over in batches: at once after `batchMs` of quiet, and on `flush`. */
class Batcher {
  private queued: ReadLine[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deliver: (lines: ReadLine[]) => void,
    private readonly batchMs: number,
  ) {}

  add(line: ReadLine): void {
    this.queued.push(line);
    this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queued.length === 0) return;
    const lines = this.queued;
    this.queued = [];
    this.deliver(lines);
  }
}

class Refused extends Error {}

async function refusalOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // No JSON body: the status says it.
  }
  return `the runner answered ${response.status} ${response.statusText}`.trim();
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** How far the transcript has been handed over, kept across reads. */
interface Cursor {
  seen: number;
  ended: boolean;
}

// Known gap: the gateway serves a transcript from its start only, so each reconnect reads the
// whole file again and skips what was seen; an offset parameter on the route would spare that.
/**
 * One read of the transcript from the gateway. The runner serves the whole file again on each
 * read (it only grows), so the lines the cursor has seen are skipped; the cursor moves with
 * every whole line, so a read that breaks off keeps what it handed over.
 */
async function readOnce(
  grant: Grant,
  options: FollowOptions,
  follow: boolean,
  cursor: Cursor,
  batch: Batcher,
): Promise<void> {
  const base = grant.gatewayUrl.endsWith('/') ? grant.gatewayUrl : `${grant.gatewayUrl}/`;
  const url = new URL(`v1/agent-tasks/${encodeURIComponent(options.taskId)}/transcript`, base);
  if (follow) url.searchParams.set('follow', '1');
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${grant.token}` },
    credentials: 'omit',
    cache: 'no-store',
    signal: options.signal,
  });
  if (!response.ok || !response.body) {
    const message = await refusalOf(response);
    // A runner that has not heard of the task yet answers 404, one that is busy 5xx: both pass.
    if (response.status === 404 || response.status >= 500) throw new Error(message);
    throw new Refused(message);
  }
  options.onStatus({ kind: 'live' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const splitter = new LineSplitter();
  let count = 0;
  const take = (lines: string[]) => {
    for (const text of lines) {
      count += 1;
      if (count <= cursor.seen) continue;
      const line = parseLine(text);
      cursor.seen = count;
      if (line.type === 'end') cursor.ended = true;
      batch.add(line);
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(splitter.push(value));
    }
    take(splitter.end());
  } finally {
    batch.flush();
  }
}

/**
 * Follows a task's transcript from its runner until the task ends or `signal` aborts. When the
 * stream drops while the task runs (a runner restart, a network change, an expired grant), it
 * connects again with a fresh grant after a pause (1 s, doubling, at most 10 s) and goes on
 * where it was. A refusal (no grant, not the task's owner) ends it with `failed`.
 */
export async function followTranscript(options: FollowOptions): Promise<void> {
  const { signal, onStatus } = options;
  const batch = new Batcher(options.onLines, options.batchMs ?? 100);
  const firstDelayMs = options.retryDelayMs ?? 1000;
  const maxDelayMs = options.maxRetryDelayMs ?? 10_000;
  let delayMs = firstDelayMs;
  const cursor: Cursor = { seen: 0, ended: false };
  onStatus({ kind: 'connecting' });
  while (!signal.aborted) {
    const running = await options.isRunning();
    const grant = await options.grant();
    let reason: string;
    if (!grant.ok) {
      if (grant.status !== 0 && grant.status < 500) {
        return onStatus({ kind: 'failed', message: `no grant for the runner: ${grant.message}` });
      }
      reason = `no grant for the runner: ${grant.message}`;
    } else {
      const seenBefore = cursor.seen;
      try {
        await readOnce(grant.data, options, running, cursor, batch);
        if (cursor.ended || !running) return onStatus({ kind: 'done' });
        reason = 'the runner ended the stream';
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof Refused) return onStatus({ kind: 'failed', message: error.message });
        reason = error instanceof Error ? error.message : String(error);
      }
      if (cursor.seen > seenBefore) delayMs = firstDelayMs;
    }
    if (!running) return onStatus({ kind: 'failed', message: reason });
    onStatus({ kind: 'reconnecting', reason });
    await sleep(delayMs, signal);
    delayMs = Math.min(maxDelayMs, delayMs * 2);
  }
}
