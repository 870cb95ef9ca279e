import type { Socket } from 'node:net';
import {
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  ProtocolError,
  type ErrorFrameBody,
  type Frame,
} from './protocol.js';
import { EnvdError } from './errors.js';
import { whenDrained } from './drain.js';

/** envd's side of one client connection: frames in, frames out, with the socket's backpressure. */
export class Connection {
  private readonly decoder = new FrameDecoder();
  private frameHandler: (frame: Frame) => void = () => undefined;
  private closeHandlers: Array<() => void> = [];
  private closed = false;
  private broken = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      for (const handler of this.closeHandlers.splice(0)) handler();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onFrame(handler: (frame: Frame) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: () => void): void {
    if (this.closed) handler();
    else this.closeHandlers.push(handler);
  }

  /** Sends one frame; false means the socket's buffer is full and the sender should wait. */
  send(type: FrameType, payload?: Uint8Array): boolean {
    if (this.closed) return true;
    return this.socket.write(encodeFrame(type, payload));
  }

  /** Sends a frame already encoded (see `encodeOutput`). */
  sendFrame(frame: Buffer): boolean {
    if (this.closed) return true;
    return this.socket.write(frame);
  }

  sendJson(type: FrameType, body: unknown): boolean {
    if (this.closed) return true;
    return this.socket.write(encodeJsonFrame(type, body));
  }

  sendChunked(type: FrameType, bytes: Uint8Array): boolean {
    let ready = true;
    for (const frame of encodeChunked(type, bytes)) {
      if (!this.closed) ready = this.socket.write(frame);
    }
    return ready;
  }

  /** Resolves once the socket can take more, or at once when it already can or is closed. */
  drained(): Promise<void> {
    return whenDrained(this.socket, this.closed);
  }

  onDrain(handler: () => void): void {
    this.socket.once('drain', handler);
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** Sends the error as the exchange's last frame and ends the connection. */
  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const body: ErrorFrameBody =
      error instanceof EnvdError
        ? { code: error.code, message }
        : error instanceof ProtocolError
          ? { code: 'invalid_request', message: `protocol error: ${message}` }
          : { code: 'internal', message };
    this.sendJson(FrameType.error, body);
    this.end();
  }

  end(): void {
    if (!this.closed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.broken) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error: unknown) {
      this.broken = true;
      const detail = error instanceof Error ? error.message : String(error);
      this.fail(new EnvdError('invalid_request', `protocol error: ${detail}`));
      return;
    }
    for (const frame of frames) {
      if (this.closed || this.broken) return;
      try {
        this.frameHandler(frame);
      } catch (error: unknown) {
        this.broken = true;
        this.fail(error);
      }
    }
  }
}
