import { HangarError, type FileEntry } from '@hangar/api';
import type { Duplex } from 'node:stream';
import {
  decodeJson,
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameType,
  PROTOCOL_VERSION,
  ProtocolError,
  type ExecRequest,
} from '@hangar/envd/protocol.js';
import type {
  AttachedProcess,
  AttachOptions,
  EnvdClient,
  ExecOptions,
  ExecOutcome,
  ListeningPort,
  ProcessInfo,
  ProcessSpawnOptions,
} from '../provider.js';
import { connectEnvd, type EnvdAuth } from './envd-connect.js';
import {
  errorFromFrame,
  isPromiseLike,
  pumpStdin,
  toHangarError,
  unexpected,
  type EnvdTransport,
  type Exchange,
  type FrameHandler,
  type Settle,
} from './envd-exchange.js';
import {
  attachProcess,
  listProcesses,
  signalProcess,
  spawnProcess,
  waitProcess,
} from './envd-processes.js';
import { connectTcp, listPorts } from './envd-tcp.js';

export type { EnvdAuth } from './envd-connect.js';

export interface EnvdClientOptions {
  /** envd's unix socket, as seen from the runner. */
  socketPath: string;
  /** What envd must prove on every connection before a request is sent to it. */
  auth: EnvdAuth;
  /** How long connecting and a ping may take; 5000 when absent. */
  timeoutMs?: number;
  /** How long past a command's timeout, or a cancel, to wait for envd; 10000 when absent. */
  graceMs?: number;
}

/** `readFile` refuses files larger than this unless the caller passes its own `maxBytes`. */
export const DEFAULT_READ_MAX_BYTES = 64 * 1024 * 1024;

/** envd runs as the environment's user, so its answers are bounded like any untrusted input. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** The one `EnvdClient`: every call opens its own connection, so streams never wait on others. */
export function createEnvdClient(options: EnvdClientOptions): EnvdClient {
  return new SocketEnvdClient(options);
}

class SocketEnvdClient implements EnvdClient, EnvdTransport {
  private readonly socketPath: string;
  private readonly auth: EnvdAuth;
  readonly environmentId: string;
  private readonly timeoutMs: number;
  private readonly graceMs: number;
  private readonly open = new Set<Exchange>();
  private closed = false;

  constructor(options: EnvdClientOptions) {
    this.socketPath = options.socketPath;
    this.auth = options.auth;
    this.environmentId = options.auth.environmentId;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.graceMs = options.graceMs ?? 10_000;
  }

  async ping(): Promise<void> {
    const timer = AbortSignal.timeout(this.timeoutMs);
    await this.exchange<void>((ex, settle) => {
      const onTimeout = (): void =>
        settle.reject(
          new HangarError(
            'environment_not_running',
            `envd of environment ${this.auth.environmentId} did not answer a ping within ` +
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

  /**
   * While a promise that `onStdout` or `onStderr` returned is pending, envd is not read, so the
   * command blocks on its output once the pipes and the socket between are full.
   */
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
      const timers: NodeJS.Timeout[] = [];
      const giveUp = (message: string): void => {
        settle.reject(new HangarError('internal', message));
      };
      const signal = options.signal;
      const onAbort = (): void => {
        ex.write(encodeFrame(FrameType.cancel));
        timers.push(
          setTimeout(
            () => giveUp('envd did not end the cancelled command; the connection was closed'),
            this.graceMs,
          ),
        );
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        const limitMs = options.timeoutMs;
        const message = `envd did not end the command at its ${limitMs} ms timeout`;
        timers.push(setTimeout(() => giveUp(message), limitMs + this.graceMs));
      }
      ex.onClose(() => {
        signal?.removeEventListener('abort', onAbort);
        for (const timer of timers) clearTimeout(timer);
      });
      return (frame) => {
        if (frame.type === FrameType.stdout) return options.onStdout?.(frame.payload);
        if (frame.type === FrameType.stderr) return options.onStderr?.(frame.payload);
        if (frame.type !== FrameType.exit) throw unexpected(frame);
        settle.resolve(parseExit(decodeJson(frame)));
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
      let received = 0;
      return (frame) => {
        if (frame.type === FrameType.data) {
          received += frame.payload.length;
          if (received > MAX_LISTING_BYTES) {
            throw new HangarError('payload_too_large', `the listing of ${path} is too large`);
          }
          chunks.push(frame.payload);
        } else if (frame.type === FrameType.dataEnd) {
          settle.resolve(parseEntries(chunks));
        } else {
          throw unexpected(frame);
        }
      };
    });
  }

  spawnProcess(options: ProcessSpawnOptions): Promise<ProcessInfo> {
    return spawnProcess(this, options);
  }

  listProcesses(): Promise<ProcessInfo[]> {
    return listProcesses(this);
  }

  attachProcess(id: string, options: AttachOptions): Promise<AttachedProcess> {
    return attachProcess(this, id, options);
  }

  signalProcess(id: string, signal: NodeJS.Signals): Promise<void> {
    return signalProcess(this, id, signal);
  }

  waitProcess(id: string, options?: { signal?: AbortSignal }): Promise<ProcessInfo> {
    return waitProcess(this, id, options);
  }

  connectTcp(port: number, host?: string): Promise<Duplex> {
    return connectTcp(this, port, host);
  }

  listPorts(): Promise<ListeningPort[]> {
    return listPorts(this);
  }

  close(): void {
    this.closed = true;
    for (const ex of this.open) ex.close();
  }

  /**
   * Opens a connection and runs one request on it. `start` sends the request and returns the
   * handler for envd's frames; an `error` frame rejects with the `HangarError` it carries.
   */
  async exchange<T>(start: (ex: Exchange, settle: Settle<T>) => FrameHandler): Promise<T> {
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
        settle.reject(error instanceof ProtocolError ? error : this.closedEarly(error));
      });
      const handler = start(ex, settle);
      ex.onFrame((frame) => {
        try {
          if (frame.type === FrameType.error) throw errorFromFrame(frame);
          const result = handler(frame);
          if (!isPromiseLike(result)) return;
          return Promise.resolve(result).catch((error: unknown) => settle.reject(error));
        } catch (error: unknown) {
          settle.reject(error);
        }
      });
    });
  }

  /** A proven connection of this client's own, closed with it (see {@link EnvdTransport}). */
  async connect(): Promise<Exchange> {
    if (this.closed) throw new HangarError('internal', 'this envd client was closed');
    const ex = await connectEnvd({
      socketPath: this.socketPath,
      auth: this.auth,
      timeoutMs: this.timeoutMs,
    });
    if (this.closed) {
      ex.close();
      throw new HangarError('internal', 'this envd client was closed');
    }
    this.open.add(ex);
    ex.onClose(() => this.open.delete(ex));
    return ex;
  }

  closedEarly(error: Error | undefined): HangarError {
    if (this.closed) return new HangarError('internal', 'the envd client was closed');
    const reason = error ? `: ${error.message}` : '';
    return new HangarError(
      'environment_not_running',
      `envd closed the connection before answering${reason}; the environment may have stopped`,
    );
  }
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
