import { closeSync, constants, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import {
  encodeChunked,
  encodeFrame,
  FrameDecoder,
  FrameType,
  type Frame,
} from '@hangar/envd/protocol.js';

/** Frames of one request on one connection. */
export class Exchange {
  private readonly decoder = new FrameDecoder();
  private frameHandler: (frame: Frame) => void = () => undefined;
  private readonly closeHandlers: Array<(error: Error | undefined) => void> = [];
  closed = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.decoder.push(chunk)) {
          if (this.closed) return;
          this.frameHandler(frame);
        }
      } catch (error: unknown) {
        this.close(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => this.close(undefined));
  }

  onFrame(handler: (frame: Frame) => void): void {
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
    if (this.closed || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const handler of this.closeHandlers.splice(0)) handler(error);
  }
}

/** Longest path a unix socket address holds on Linux (108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * A path to connect to: the socket's own, or, when that is too long for a socket address,
 * the same socket reached through an open descriptor of its directory.
 */
export function connectablePath(socketPath: string): { path: string; release: () => void } {
  if (Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES) {
    return { path: socketPath, release: () => undefined };
  }
  let fd: number;
  try {
    fd = openSync(dirname(socketPath), constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return { path: socketPath, release: () => undefined };
  }
  let open = true;
  const release = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return { path: `/proc/self/fd/${fd}/${basename(socketPath)}`, release };
}

export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
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
