import type { Connection } from './connection.js';
import { EnvdError } from './errors.js';
import { listDirInside, openForRead, readChunk, tooLarge } from './files.js';
import { closeQuietly, type PathRules } from './paths.js';
import { beginWrite, type PendingWrite } from './write-file.js';
import {
  DATA_CHUNK_BYTES,
  FrameType,
  type Frame,
  type ListDirResult,
  type ReadFileResult,
} from './protocol.js';

/** Largest file one `writeFile` may carry. */
export const MAX_WRITE_BYTES = 1024 ** 4;

/** Default and ceiling for `readFile`'s `maxBytes`. */
export const MAX_READ_BYTES = 1024 * 1024 * 1024;

function bodyObject(body: unknown, request: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EnvdError('invalid_request', `${request}: the request must be an object`);
  }
  return body as Record<string, unknown>;
}

function pathField(raw: Record<string, unknown>, request: string): string {
  if (typeof raw.path !== 'string') {
    throw new EnvdError('invalid_request', `${request}: path must be a string`);
  }
  return raw.path;
}

function byteCount(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new EnvdError('invalid_request', `${field} must be an integer from 0 to ${max}`);
  }
  return value;
}

/** Streams a file out: `result` with its size, its bytes as `data` frames, then `dataEnd`. */
export async function handleReadFile(
  conn: Connection,
  body: unknown,
  rules: PathRules,
): Promise<void> {
  const raw = bodyObject(body, 'readFile');
  const path = pathField(raw, 'readFile');
  const maxBytes = byteCount(raw.maxBytes ?? MAX_READ_BYTES, 'maxBytes', MAX_READ_BYTES);
  const file = openForRead(path, rules, maxBytes);
  try {
    const result: ReadFileResult = { size: file.size, mode: file.mode };
    conn.sendJson(FrameType.result, result);
    let sent = 0;
    for (;;) {
      const chunk = readChunk(file.fd, DATA_CHUNK_BYTES);
      if (chunk.length === 0) break;
      sent += chunk.length;
      if (sent > maxBytes) throw tooLarge(path, sent, maxBytes);
      if (!conn.send(FrameType.data, chunk)) await conn.drained();
      if (conn.isClosed) return;
    }
    conn.send(FrameType.dataEnd);
    conn.end();
  } finally {
    closeQuietly(file.fd);
  }
}

/** Sends the directory's entries as JSON spread over `data` frames, then `dataEnd`. */
export function handleListDir(conn: Connection, body: unknown, rules: PathRules): void {
  const path = pathField(bodyObject(body, 'listDir'), 'listDir');
  const result: ListDirResult = { entries: listDirInside(path, rules) };
  conn.sendChunked(FrameType.data, Buffer.from(JSON.stringify(result), 'utf8'));
  conn.send(FrameType.dataEnd);
  conn.end();
}

/** Streams a file's bytes into place: nothing changes at the target unless all of them arrive. */
export class WriteSession {
  private readonly path: string;
  private readonly size: number;
  private readonly mode: number | undefined;
  private received = 0;

  constructor(
    private readonly conn: Connection,
    body: unknown,
    private readonly rules: PathRules,
  ) {
    const raw = bodyObject(body, 'writeFile');
    this.path = pathField(raw, 'writeFile');
    this.size = byteCount(raw.size, 'size', MAX_WRITE_BYTES);
    this.mode = raw.mode === undefined ? undefined : byteCount(raw.mode, 'mode', 0o777);
  }

  start(): void {
    const pending = beginWrite(this.path, this.rules, this.mode);
    this.conn.onClose(() => pending.abort());
    this.conn.onFrame((frame) => {
      try {
        this.onFrame(frame, pending);
      } catch (error: unknown) {
        pending.abort();
        throw error;
      }
    });
  }

  private onFrame(frame: Frame, pending: PendingWrite): void {
    if (frame.type === FrameType.data) {
      this.received += frame.payload.length;
      if (this.received > this.size) {
        throw new EnvdError(
          'invalid_request',
          `writeFile: more than the ${this.size} bytes announced`,
        );
      }
      pending.write(frame.payload);
      return;
    }
    if (frame.type !== FrameType.dataEnd) {
      throw new EnvdError(
        'invalid_request',
        `writeFile: unexpected frame 0x${frame.type.toString(16)}`,
      );
    }
    if (this.received !== this.size) {
      throw new EnvdError(
        'invalid_request',
        `writeFile: ${this.received} bytes arrived, ${this.size} were announced`,
      );
    }
    pending.commit();
    this.conn.sendJson(FrameType.result, {});
    this.conn.end();
  }
}
