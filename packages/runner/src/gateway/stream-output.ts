import type { WebSocket } from 'ws';

/** How far a client of the exec stream may fall behind, both ways. */
export interface StreamLimits {
  /** Output is no longer pulled from envd while more than this waits to reach the client. */
  highWaterBytes: number;
  /** A client with more than this waiting for it is cut off and its command killed. */
  maxBufferedBytes: number;
  /** A client that takes no output for this long while output waits is cut off likewise. */
  maxStalledMs: number;
  /** Input the command has not read yet, above which the client's messages are not read. */
  stdinHighWaterBytes: number;
}

export const defaultStreamLimits: StreamLimits = {
  highWaterBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxStalledMs: 60_000,
  stdinHighWaterBytes: 4 * 1024 * 1024,
};

/**
 * A command's output on its way to a WebSocket client, with backpressure: `send` returns a
 * promise while more than the high-water mark waits in the socket (`bufferedAmount`), which
 * holds the envd client, so envd and then the command wait too. It settles once the client has
 * taken half of it. A client stalled past the limits is cut off: the socket is terminated (the
 * route then aborts the command) and later output is dropped.
 */
export class StreamOutput {
  private readonly waiters: Array<() => void> = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private cut = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly limits: StreamLimits,
    private readonly onCutOff: (reason: string) => void,
  ) {
    socket.once('close', () => this.release());
  }

  /** One binary frame: the tag byte, then the chunk. */
  send(tag: number, chunk: Buffer): void | Promise<void> {
    return this.sendBytes(Buffer.concat([Buffer.from([tag]), chunk]));
  }

  /** One binary frame of exactly these bytes (a terminal's output, which has one stream). */
  sendBytes(frame: Buffer): void | Promise<void> {
    if (this.cut || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(frame, () => this.onFlushed());
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.limits.maxBufferedBytes) {
      this.cutOff(`more than ${this.limits.maxBufferedBytes} bytes of output waited for it`);
      return;
    }
    if (buffered <= this.limits.highWaterBytes) return;
    if (this.waiters.length === 0) this.armStallTimer();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Bytes written into the socket that the client has not taken yet. */
  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  private onFlushed(): void {
    if (this.waiters.length === 0) return;
    if (this.socket.bufferedAmount > this.limits.highWaterBytes / 2) {
      this.armStallTimer();
      return;
    }
    this.release();
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(
      () => this.cutOff(`it took no output for ${this.limits.maxStalledMs} ms`),
      this.limits.maxStalledMs,
    );
  }

  private cutOff(reason: string): void {
    if (this.cut) return;
    this.cut = true;
    this.release();
    this.onCutOff(reason);
    this.socket.terminate();
  }

  private release(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
