import { HangarError } from '@hangar/api';
import {
  decodeJson,
  decodeOutput,
  encodeChunked,
  encodeFrame,
  encodeJsonFrame,
  FrameType,
  ProtocolError,
  type AttachRequest,
  type Frame,
  type SpawnRequest,
} from '@hangar/envd/protocol.js';
import type {
  AttachedProcess,
  AttachOptions,
  ProcessInfo,
  ProcessSpawnOptions,
} from '../provider.js';
import {
  parseAttachResult,
  parseProcessInfo,
  parseProcessList,
  streamAllowed,
} from './envd-answers.js';
import {
  errorFromFrame,
  isPromiseLike,
  toHangarError,
  unexpected,
  type EnvdTransport,
  type Exchange,
} from './envd-exchange.js';

/** A JSON answer sent in `data` frames may not exceed this; envd's own lists stay far below. */
const MAX_LIST_BYTES = 32 * 1024 * 1024;

export async function spawnProcess(
  transport: EnvdTransport,
  options: ProcessSpawnOptions,
): Promise<ProcessInfo> {
  if (!Array.isArray(options.command) || options.command.length === 0) {
    throw new HangarError('invalid_request', 'spawn needs a command: a non-empty list of strings');
  }
  const request: SpawnRequest = {
    command: options.command,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.pty !== undefined ? { pty: options.pty } : {}),
    ...(options.unattachedGraceMs !== undefined
      ? { unattachedGraceMs: options.unattachedGraceMs }
      : {}),
    ...(options.labels !== undefined ? { labels: options.labels } : {}),
  };
  return transport.exchange<ProcessInfo>((ex, settle) => {
    ex.write(encodeJsonFrame(FrameType.spawn, request));
    return (frame) => {
      if (frame.type !== FrameType.result) throw unexpected(frame);
      settle.resolve(parseProcessInfo(decodeJson(frame)));
    };
  });
}

/** Collects a JSON answer sent as `data`* `dataEnd`, bounded, and parses it with `parse`. */
export function jsonInData<T>(
  transport: EnvdTransport,
  type: FrameType,
  parse: (body: unknown) => T,
): Promise<T> {
  return transport.exchange<T>((ex, settle) => {
    ex.write(encodeFrame(type));
    const chunks: Buffer[] = [];
    let received = 0;
    return (frame) => {
      if (frame.type === FrameType.data) {
        received += frame.payload.length;
        if (received > MAX_LIST_BYTES) throw new ProtocolError('an answer that is too large');
        chunks.push(frame.payload);
      } else if (frame.type === FrameType.dataEnd) {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks, received).toString('utf8'));
        } catch {
          throw new ProtocolError('an answer that is not JSON');
        }
        settle.resolve(parse(body));
      } else {
        throw unexpected(frame);
      }
    };
  });
}

export function listProcesses(transport: EnvdTransport): Promise<ProcessInfo[]> {
  return jsonInData(transport, FrameType.listProcesses, parseProcessList);
}

export async function signalProcess(
  transport: EnvdTransport,
  id: string,
  signal: NodeJS.Signals,
): Promise<void> {
  return transport.exchange<void>((ex, settle) => {
    ex.write(encodeJsonFrame(FrameType.signal, { id, signal }));
    return (frame) => {
      if (frame.type !== FrameType.result) throw unexpected(frame);
      settle.resolve();
    };
  });
}

export async function waitProcess(
  transport: EnvdTransport,
  id: string,
  options: { signal?: AbortSignal } = {},
): Promise<ProcessInfo> {
  const signal = options.signal;
  signal?.throwIfAborted();
  return transport.exchange<ProcessInfo>((ex, settle) => {
    ex.write(encodeJsonFrame(FrameType.wait, { id }));
    const onAbort = (): void => settle.reject(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    ex.onClose(() => signal?.removeEventListener('abort', onAbort));
    return (frame) => {
      if (frame.type !== FrameType.exited) throw unexpected(frame);
      const info = parseProcessInfo(decodeJson(frame));
      if (info.id !== id || info.state !== 'exited') throw new ProtocolError('a wrong final state');
      settle.resolve(info);
    };
  });
}

/**
 * Attaches on a connection of its own. Resolves once envd has said where replay starts; output
 * then flows to `onOutput` (a promise it returns holds envd back), and `done` settles with the
 * process's final state, or undefined on detach.
 */
export async function attachProcess(
  transport: EnvdTransport,
  id: string,
  options: AttachOptions,
): Promise<AttachedProcess> {
  options.signal?.throwIfAborted();
  const ex = await transport.connect();
  const request: AttachRequest = {
    id,
    ...(options.fromOffset !== undefined ? { fromOffset: options.fromOffset } : {}),
  };
  return new Promise<AttachedProcess>((resolve, reject) => {
    let attached: Attachment | undefined;
    ex.onClose((error) => {
      if (attached) attached.onExchangeClosed(error);
      else
        reject(
          error instanceof ProtocolError ? toHangarError(error) : transport.closedEarly(error),
        );
    });
    ex.onFrame((frame) => {
      if (attached) return attached.onFrame(frame);
      try {
        if (frame.type === FrameType.error) throw errorFromFrame(frame);
        if (frame.type !== FrameType.result) throw unexpected(frame);
        const result = parseAttachResult(decodeJson(frame));
        if (result.process.id !== id) throw new ProtocolError('another process');
        attached = new Attachment(ex, result, options, transport);
        resolve(attached);
      } catch (error: unknown) {
        reject(toHangarError(error));
        ex.close();
      }
    });
    ex.write(encodeJsonFrame(FrameType.attach, request));
  });
}

const RESIZE_MAX = 10_000;

class Attachment implements AttachedProcess {
  readonly replayedFrom: number;
  readonly done: Promise<ProcessInfo | undefined>;
  private nextOffset: number;
  private readonly pty: boolean;
  private readonly processId: string;
  private settleDone: { resolve(info?: ProcessInfo): void; reject(error: Error): void };
  private detached = false;
  private finished = false;
  /** What `onOutput` threw: it ends the attachment and is what `done` rejects with. */
  private consumerError: unknown;

  constructor(
    private readonly ex: Exchange,
    result: { replayedFrom: number; process: ProcessInfo },
    private readonly options: AttachOptions,
    private readonly transport: EnvdTransport,
  ) {
    this.replayedFrom = result.replayedFrom;
    this.nextOffset = result.replayedFrom;
    this.pty = result.process.pty;
    this.processId = result.process.id;
    let settleDone: Attachment['settleDone'] = {
      resolve: () => undefined,
      reject: () => undefined,
    };
    this.done = new Promise<ProcessInfo | undefined>((resolve, reject) => {
      settleDone = { resolve, reject };
    });
    this.settleDone = settleDone;
    // A caller that only detaches need not await `done`; a failure is not left unhandled.
    this.done.catch(() => undefined);
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => this.detach();
      signal.addEventListener('abort', onAbort, { once: true });
      ex.onClose(() => signal.removeEventListener('abort', onAbort));
      if (signal.aborted) this.detach();
    }
  }

  async write(data: Buffer): Promise<void> {
    if (this.finished) {
      throw new HangarError(
        'conflict',
        `process ${this.processId} is no longer attached here (it exited or was detached)`,
      );
    }
    await this.ex.writeAll(encodeChunked(FrameType.stdin, data));
  }

  closeInput(): void {
    if (!this.finished) this.ex.write(encodeFrame(FrameType.stdinEnd));
  }

  resize(cols: number, rows: number): void {
    const side = (value: number): boolean =>
      Number.isInteger(value) && value >= 1 && value <= RESIZE_MAX;
    if (!side(cols) || !side(rows)) {
      throw new HangarError(
        'invalid_request',
        `a terminal size is two whole numbers from 1 to ${RESIZE_MAX}, not ${cols}x${rows}`,
      );
    }
    if (!this.finished) this.ex.write(encodeJsonFrame(FrameType.resize, { cols, rows }));
  }

  detach(): void {
    if (this.finished) return;
    this.detached = true;
    this.ex.close();
  }

  onFrame(frame: Frame): void | Promise<void> {
    if (frame.type === FrameType.output) {
      const output = decodeOutput(frame);
      if (!streamAllowed(output.stream, this.pty)) {
        throw new ProtocolError(`${output.stream} output for this process`);
      }
      if (output.offset < this.nextOffset) throw new ProtocolError('output that goes backwards');
      this.nextOffset = output.offset + output.bytes.length;
      let result: void | Promise<void>;
      try {
        result = this.options.onOutput(output.bytes, output.stream, output.offset);
      } catch (error: unknown) {
        this.consumerError = error;
        throw error;
      }
      if (!isPromiseLike(result)) return;
      return Promise.resolve(result).catch((error: unknown) => {
        this.consumerError = error;
        throw error;
      });
    }
    if (frame.type === FrameType.exited) {
      const info = parseProcessInfo(decodeJson(frame));
      if (info.id !== this.processId || info.state !== 'exited') {
        throw new ProtocolError('a wrong final state');
      }
      this.finish();
      this.settleDone.resolve(info);
      this.ex.close();
      return;
    }
    if (frame.type === FrameType.error) throw errorFromFrame(frame);
    throw unexpected(frame);
  }

  /** The connection closed: by `detach`, after the final state, or because it failed. */
  onExchangeClosed(error: Error | undefined): void {
    if (this.finished) return;
    this.finish();
    if (this.detached) {
      this.settleDone.resolve(undefined);
    } else if (this.consumerError !== undefined) {
      this.settleDone.reject(toError(this.consumerError));
    } else if (error instanceof HangarError || error instanceof ProtocolError) {
      this.settleDone.reject(toHangarError(error));
    } else {
      this.settleDone.reject(this.transport.closedEarly(error));
    }
  }

  private finish(): void {
    this.finished = true;
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
