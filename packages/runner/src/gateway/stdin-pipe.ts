/**
 * An async iterable of stdin chunks fed from WebSocket frames, ended by the client. Input the
 * command has not taken yet is bounded: past `highWaterBytes`, `onPressure(true)` asks the
 * feeder to stop reading its client; once half of it has been taken, `onPressure(false)`.
 */
export class StdinPipe implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private full = false;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: {
      highWaterBytes: number;
      onPressure: (full: boolean) => void;
    } = { highWaterBytes: Infinity, onPressure: () => undefined },
  ) {}

  push(chunk: Buffer): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    if (!this.full && this.bufferedBytes > this.options.highWaterBytes) {
      this.full = true;
      this.options.onPressure(true);
    }
    this.wake?.();
  }

  /** No more input: what was pushed is still handed over. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The command is gone: drops what it did not take, so the feeder may read its client again. */
  close(): void {
    this.end();
    this.chunks.length = 0;
    this.taken(this.bufferedBytes);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.taken(chunk.length);
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private taken(bytes: number): void {
    this.bufferedBytes -= bytes;
    if (this.full && this.bufferedBytes <= this.options.highWaterBytes / 2) {
      this.full = false;
      this.options.onPressure(false);
    }
  }
}
