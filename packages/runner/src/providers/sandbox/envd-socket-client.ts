import { createConnection, type Socket } from 'node:net';
import { HangarError, isErrorCode, type FileEntry } from '@hangar/api';
import {
  decodeJson,
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
  ProtocolError,
  type ExecRequest,
  type Frame,
} from '@hangar/envd/protocol.js';
import type { EnvdClient, ExecOptions, ExecOutcome } from '../provider.js';

export interface EnvdClientOptions {
  /** envd's unix socket, as seen from the runner. */
  socketPath: string;
  /** How long connecting and a ping may take; 5000 when absent. */
  timeoutMs?: number;
}

/** `readFile` refuses files larger than this unless the caller passes its own `maxBytes`. */
export const DEFAULT_READ_MAX_BYTES = 64 * 1024 * 1024;

/** The one `EnvdClient`: every call opens its own connection, so streams never wait on others. */
export function createEnvdClient(options: EnvdClientOptions): EnvdClient {
  return new SocketEnvdClient(options);
}

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Frames of one request on one connection. */
class Exchange {
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

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

class SocketEnvdClient implements EnvdClient {
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly open = new Set<Exchange>();
  private closed = false;

  constructor(options: EnvdClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async ping(): Promise<void> {
    const timer = AbortSignal.timeout(this.timeoutMs);
    await this.exchange<void>((ex, settle) => {
      const onTimeout = (): void =>
        settle.reject(
          new HangarError(
            'environment_not_running',
            `envd at ${this.socketPath} accepted but did not answer a ping within ` +
              `${this.timeoutMs} ms; restart the environment`,
          ),
        );
      timer.addEventListener('abort', onTimeout, { once: true });
      ex.write(encodeFrame(FrameType.ping));
      return (frame) => {
        if (frame.type !== FrameType.pong) throw unexpected(frame);
        timer.removeEventListener('abort', onTimeout);
        const version = (decodeJson(frame) as { protocolVersion?: unknown }).protocolVersion;
        if (version !== PROTOCOL_VERSION) {
          throw new HangarError(
            'internal',
            `envd speaks protocol ${String(version)} but this runner speaks ` +
              `${PROTOCOL_VERSION}; stop and start the environment to run the runner's envd`,
          );
        }
        settle.resolve();
      };
    });
  }

  async exec(options: ExecOptions): Promise<ExecOutcome> {
    options.signal?.throwIfAborted();
    const request: ExecRequest = {
      command: options.command,
      stdin: options.stdin !== undefined,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    };
    if (!Array.isArray(request.command) || request.command.length === 0) {
      throw new HangarError('invalid_request', 'exec needs a command: a non-empty list of strings');
    }
    return this.exchange<ExecOutcome>((ex, settle) => {
      ex.write(encodeJsonFrame(FrameType.exec, request));
      if (options.stdin !== undefined) {
        pumpStdin(ex, options.stdin).catch((error: unknown) => settle.reject(error));
      }
      const signal = options.signal;
      const onAbort = (): void => void ex.write(encodeFrame(FrameType.cancel));
      signal?.addEventListener('abort', onAbort, { once: true });
      ex.onClose(() => signal?.removeEventListener('abort', onAbort));
      return (frame) => {
        if (frame.type === FrameType.stdout) options.onStdout?.(frame.payload);
        else if (frame.type === FrameType.stderr) options.onStderr?.(frame.payload);
        else if (frame.type === FrameType.exit) settle.resolve(parseExit(decodeJson(frame)));
        else throw unexpected(frame);
      };
    });
  }

  async readFile(path: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? DEFAULT_READ_MAX_BYTES;
    return this.exchange<Buffer>((ex, settle) => {
      ex.write(encodeJsonFrame(FrameType.readFile, { path, maxBytes }));
      const chunks: Buffer[] = [];
      let received = 0;
      let sawResult = false;
      return (frame) => {
        if (frame.type === FrameType.result && !sawResult) {
          sawResult = true;
        } else if (frame.type === FrameType.data && sawResult) {
          received += frame.payload.length;
          if (received > maxBytes) {
            throw new HangarError('payload_too_large', `${path} is larger than ${maxBytes} bytes`);
          }
          chunks.push(frame.payload);
        } else if (frame.type === FrameType.dataEnd && sawResult) {
          settle.resolve(Buffer.concat(chunks, received));
        } else {
          throw unexpected(frame);
        }
      };
    });
  }

  async writeFile(path: string, data: Buffer, options: { mode?: number } = {}): Promise<void> {
    return this.exchange<void>((ex, settle) => {
      const header = { path, size: data.length, ...options };
      ex.write(encodeJsonFrame(FrameType.writeFile, header));
      ex.writeAll([...encodeChunked(FrameType.data, data), encodeFrame(FrameType.dataEnd)]).catch(
        (error: unknown) => settle.reject(error),
      );
      return (frame) => {
        if (frame.type !== FrameType.result) throw unexpected(frame);
        settle.resolve();
      };
    });
  }

  async listDir(path: string): Promise<FileEntry[]> {
    return this.exchange<FileEntry[]>((ex, settle) => {
      ex.write(encodeJsonFrame(FrameType.listDir, { path }));
      const chunks: Buffer[] = [];
      return (frame) => {
        if (frame.type === FrameType.data) chunks.push(frame.payload);
        else if (frame.type === FrameType.dataEnd) settle.resolve(parseEntries(chunks));
        else throw unexpected(frame);
      };
    });
  }

  close(): void {
    this.closed = true;
    for (const ex of this.open) ex.close();
  }

  /**
   * Opens a connection and runs one request on it. `start` sends the request and returns the
   * handler for envd's frames; an `error` frame rejects with the `HangarError` it carries.
   */
  private async exchange<T>(
    start: (ex: Exchange, settle: Settle<T>) => (frame: Frame) => void,
  ): Promise<T> {
    const ex = await this.connect();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle: Settle<T> = {
        resolve: (value) => {
          if (settled) return;
          settled = true;
          resolve(value);
          ex.close();
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          reject(toHangarError(error));
          ex.close();
        },
      };
      ex.onClose((error) => {
        this.open.delete(ex);
        settle.reject(this.closedEarly(error));
      });
      const handler = start(ex, settle);
      ex.onFrame((frame) => {
        try {
          if (frame.type === FrameType.error) throw errorFromFrame(frame);
          handler(frame);
        } catch (error: unknown) {
          settle.reject(error);
        }
      });
    });
  }

  private connect(): Promise<Exchange> {
    if (this.closed) {
      return Promise.reject(new HangarError('internal', 'this envd client was closed'));
    }
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path: this.socketPath });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.unreachable('ETIMEDOUT'));
      }, this.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(this.unreachable(errnoOf(error) ?? error.message));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        const ex = new Exchange(socket);
        this.open.add(ex);
        resolve(ex);
      });
    });
  }

  private unreachable(reason: string): HangarError {
    return new HangarError(
      'environment_not_running',
      `envd is not answering at ${this.socketPath} (${reason}); start the environment and retry`,
    );
  }

  private closedEarly(error: Error | undefined): HangarError {
    if (this.closed) return new HangarError('internal', 'the envd client was closed');
    const reason = error ? `: ${error.message}` : '';
    return new HangarError(
      'environment_not_running',
      `envd closed the connection before answering${reason}; the environment may have stopped`,
    );
  }
}

async function pumpStdin(ex: Exchange, stdin: Buffer | AsyncIterable<Buffer>): Promise<void> {
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

function unexpected(frame: Frame): ProtocolError {
  return new ProtocolError(`envd sent an unexpected frame 0x${frame.type.toString(16)}`);
}

function errorFromFrame(frame: Frame): HangarError {
  const body = decodeJson(frame) as { code?: unknown; message?: unknown };
  const message = typeof body.message === 'string' ? body.message : 'envd reported an error';
  return new HangarError(isErrorCode(body.code) ? body.code : 'internal', message);
}

function toHangarError(error: unknown): unknown {
  if (error instanceof HangarError) return error;
  if (error instanceof ProtocolError) {
    return new HangarError('internal', `envd protocol error: ${error.message}`, { cause: error });
  }
  return error;
}

function parseExit(body: unknown): ExecOutcome {
  const raw = body as Partial<Record<keyof ExecOutcome, unknown>>;
  const exitCode = typeof raw.exitCode === 'number' ? raw.exitCode : null;
  const signal = typeof raw.signal === 'string' ? raw.signal : null;
  const durationMs = typeof raw.durationMs === 'number' ? raw.durationMs : 0;
  return { exitCode, signal, timedOut: raw.timedOut === true, durationMs };
}

function parseEntries(chunks: Buffer[]): FileEntry[] {
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entries?: unknown };
  if (!Array.isArray(body.entries)) throw new ProtocolError('listDir result has no entries');
  return body.entries as FileEntry[];
}
