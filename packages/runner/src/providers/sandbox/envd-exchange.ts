import type { Socket } from 'node:net';
import { HangarError, isErrorCode } from '@hangar/api';
import {
  decodeJson,
  encodeChunked,
  encodeFrame,
  FrameDecoder,
  FrameType,
  ProtocolError,
  type Frame,
} from '@hangar/envd/protocol.js';
import { whenDrained } from '@hangar/envd/drain.js';

/** Handles one frame; a returned promise holds back every later frame until it settles. */
export type FrameHandler = (frame: Frame) => void | Promise<void>;

export interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * How the client's request helpers reach envd: `exchange` runs one request that ends with one
 * answer (the connection closes when it settles); `connect` hands over a fresh proven
 * connection for a long-lived stream (attach, TCP).
 */
export interface EnvdTransport {
  readonly environmentId: string;
  exchange<T>(start: (ex: Exchange, settle: Settle<T>) => FrameHandler): Promise<T>;
  connect(): Promise<Exchange>;
  /** The error for a connection that ended before envd answered. */
  closedEarly(error: Error | undefined): HangarError;
}

/**
 * Frames of one request on one connection. While a frame handler's promise is pending the
 * socket is not read, so envd, whose writes then block, stops reading the command's output: a
 * slow consumer slows the command instead of piling its output up in the runner.
 */
export class Exchange {
  private readonly decoder = new FrameDecoder();
  private frameHandler: FrameHandler = () => undefined;
  private readonly closeHandlers: Array<(error: Error | undefined) => void> = [];
  private readonly pending: Frame[] = [];
  private waiting = false;
  /** envd hung up; frames already received are still handed over before the close. */
  private hungUp = false;
  closed = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.decoder.push(chunk)) this.pending.push(frame);
      } catch (error: unknown) {
        this.close(asError(error));
        return;
      }
      this.deliver();
    });
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => {
      this.hungUp = true;
      this.deliver();
    });
  }

  onFrame(handler: FrameHandler): void {
    this.frameHandler = handler;
  }

  onClose(handler: (error: Error | undefined) => void): void {
    this.closeHandlers.push(handler);
  }

  write(frame: Buffer): boolean {
    if (this.closed) return true;
    return this.socket.write(frame);
  }

  async writeAll(frames: Buffer[]): Promise<void> {
    for (const frame of frames) {
      if (!this.write(frame)) await this.drained();
    }
  }

  drained(): Promise<void> {
    return whenDrained(this.socket, this.closed);
  }

  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    this.socket.destroy();
    for (const handler of this.closeHandlers.splice(0)) handler(error);
  }

  /** Hands queued frames over in order, pausing the socket while a handler is busy. */
  private deliver(): void {
    while (!this.waiting && !this.closed) {
      const frame = this.pending.shift();
      if (frame === undefined) {
        if (this.hungUp) this.close(undefined);
        return;
      }
      let result: void | Promise<void>;
      try {
        result = this.frameHandler(frame);
      } catch (error: unknown) {
        this.close(asError(error));
        return;
      }
      if (isPromiseLike(result)) this.waitFor(result);
    }
  }

  private waitFor(result: PromiseLike<void>): void {
    this.waiting = true;
    this.socket.pause();
    result.then(
      () => {
        this.waiting = false;
        if (this.closed) return;
        this.deliver();
        if (!this.waiting && !this.closed) this.socket.resume();
      },
      (error: unknown) => this.close(asError(error)),
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Sends a command's input, waiting whenever the socket is full. */
export async function pumpStdin(
  ex: Exchange,
  stdin: Buffer | AsyncIterable<Buffer>,
): Promise<void> {
  if (Buffer.isBuffer(stdin)) {
    await ex.writeAll(encodeChunked(FrameType.stdin, stdin));
  } else {
    for await (const chunk of stdin) {
      if (ex.closed) return;
      await ex.writeAll(encodeChunked(FrameType.stdin, chunk));
    }
  }
  ex.write(encodeFrame(FrameType.stdinEnd));
}

export function unexpected(frame: Frame): ProtocolError {
  return new ProtocolError(`envd sent an unexpected frame 0x${frame.type.toString(16)}`);
}

export function errorFromFrame(frame: Frame): HangarError {
  const body = decodeJson(frame) as { code?: unknown; message?: unknown };
  const message = typeof body.message === 'string' ? body.message : 'envd reported an error';
  return new HangarError(isErrorCode(body.code) ? body.code : 'internal', message.slice(0, 2000));
}

export function toHangarError(error: unknown): Error {
  if (error instanceof HangarError) return error;
  if (error instanceof ProtocolError) {
    return new HangarError('internal', `envd protocol error: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
