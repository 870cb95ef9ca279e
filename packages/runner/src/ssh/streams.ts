import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** Aborts once the channel (or socket) closes: for envd calls and for writes that must stop. */
export function closeSignal(stream: EventEmitter): AbortSignal {
  const controller = new AbortController();
  stream.once('close', () => controller.abort());
  return controller.signal;
}

function untilDrainedOr(stream: Writable, gone: AbortSignal, event: 'drain' | 'finish') {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off(event, done);
      gone.removeEventListener('abort', done);
      resolve();
    };
    stream.on(event, done);
    gone.addEventListener('abort', done, { once: true });
  });
}

/**
 * Writes a chunk and resolves once the stream can take more: at once while it is below its
 * high-water mark, on `drain` otherwise, or when `gone` aborts (the channel closed; what is left
 * is dropped). The promise is what envd's client waits on, so a slow SSH client slows the
 * command down instead of piling its output up in the runner.
 */
export function writeWithBackpressure(
  stream: Writable,
  chunk: Buffer,
  gone: AbortSignal,
): Promise<void> | void {
  if (gone.aborted || stream.destroyed || stream.writableEnded) return;
  if (stream.write(chunk)) return;
  return untilDrainedOr(stream, gone, 'drain');
}

/**
 * Ends the stream and resolves once everything written was handed on, or `gone` aborted (a
 * write still waiting for the SSH window then never completes).
 */
export function finished(stream: Writable, gone: AbortSignal): Promise<void> {
  if (gone.aborted || stream.writableFinished || stream.destroyed) return Promise.resolve();
  const done = untilDrainedOr(stream, gone, 'finish');
  stream.end();
  return done;
}

/**
 * A channel's input as an async iterable for envd's client: each step takes everything the
 * channel holds (up to its 2 MiB buffer), so a fast upload moves in few large frames. Nothing
 * is read while a step waits, so a command that reads slowly fills the SSH window and the
 * client waits. Unlike the stream's own iterator, stopping never destroys the stream: after
 * `stop` the rest of the input is read and dropped, so the channel can still send the exit
 * status and close.
 */
export class InputPump implements AsyncIterable<Buffer> {
  private ended = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly count: (bytes: number) => void,
  ) {
    stream.on('readable', () => {
      if (this.stopped) while (stream.read() !== null);
      else this.notify();
    });
    const end = () => {
      this.ended = true;
      this.notify();
    };
    stream.on('end', end);
    stream.on('close', end);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.stopped) return;
      const chunk = this.stream.read() as Buffer | string | null;
      if (chunk !== null) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        this.count(bytes.length);
        yield bytes;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Ends the iteration and drops whatever input comes after. */
  stop(): void {
    this.stopped = true;
    this.notify();
    while (this.stream.read() !== null);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
