/**
 * The framed binary protocol between the runner's `EnvdClient` and `envd`, over a unix socket.
 *
 * A frame is a 5-byte header (payload length as u32 big-endian, then a u8 type) followed by the
 * payload: raw bytes for output, input and file data, UTF-8 JSON for requests and results. One
 * connection carries one request, and the connection ends after envd's last frame for it. This
 * file imports nothing, so both sides can load it cheaply.
 *
 * Every connection opens with `challenge` (a fresh nonce of {@link CHALLENGE_NONCE_BYTES}) →
 * `proof` (HMAC-SHA256 of the nonce and the environment id under the per-boot secret that only
 * this environment's envd holds; see `auth.ts`). The client sends its request only once the proof
 * checks out, so a socket that is not its environment's envd never receives one.
 *
 * Exchanges after that (client → envd, then envd → client):
 * - `ping` → `pong` {@link PongBody}
 * - `exec` {@link ExecRequest}, then `stdin`* `stdinEnd` when `stdin` is true, `cancel` at any
 *   time → `stdout`* `stderr`* interleaved, then `exit` {@link ExitBody} or `error`
 * - `readFile` {@link ReadFileRequest} → `result` {@link ReadFileResult}, `data`*, `dataEnd`
 * - `writeFile` {@link WriteFileRequest}, `data`*, `dataEnd` → `result` {} or `error`
 * - `listDir` {@link ListDirRequest} → `data`* `dataEnd` carrying the JSON {@link ListDirResult}
 * - `spawn` {@link SpawnRequest} → `result` {@link ProcessInfoBody}. The process belongs to envd,
 *   not to the connection, which ends here.
 * - `attach` {@link AttachRequest} → `result` {@link AttachResult}, then `output`* (see
 *   {@link encodeOutput}: the buffered output from `replayedFrom`, then live output) and finally
 *   `exited` {@link ProcessInfoBody} once the process has exited. Meanwhile the client may send
 *   `stdin`*, `stdinEnd` (closes the input; ^D for a terminal) and `resize` {@link ResizeBody}.
 *   Closing the connection detaches; several connections may be attached at once.
 * - `listProcesses` → `data`* `dataEnd` carrying the JSON {@link ProcessListBody}
 * - `signal` {@link SignalRequest} → `result` {}
 * - `wait` {@link ProcessRef} → `exited` {@link ProcessInfoBody} once the process has exited
 * - `tcpConnect` {@link TcpConnectRequest} → `result` {} once connected; then raw bytes both ways
 *   in `data` frames, each direction closed by its `dataEnd` (a half-close). envd ends the
 *   connection once both directions are closed, or with `error` when the TCP connection fails.
 * - `listPorts` → `data`* `dataEnd` carrying the JSON {@link PortListBody}
 * Any exchange may end with `error` {@link ErrorFrameBody} instead.
 */

export const PROTOCOL_VERSION = 3;

export const FRAME_HEADER_BYTES = 5;

/** Largest payload a peer accepts; a bigger frame is a protocol error and ends the connection. */
export const MAX_FRAME_PAYLOAD_BYTES = 1024 * 1024;

/** Output, input and file data are sent in chunks of at most this size. */
export const DATA_CHUNK_BYTES = 64 * 1024;

/** Size of the nonce a `challenge` frame carries. */
export const CHALLENGE_NONCE_BYTES = 32;

export const FrameType = {
  ping: 0x01,
  exec: 0x02,
  stdin: 0x03,
  stdinEnd: 0x04,
  cancel: 0x05,
  readFile: 0x06,
  writeFile: 0x07,
  listDir: 0x08,
  data: 0x09,
  dataEnd: 0x0a,
  challenge: 0x0b,
  spawn: 0x0c,
  attach: 0x0d,
  resize: 0x0e,
  listProcesses: 0x0f,
  signal: 0x10,
  wait: 0x11,
  tcpConnect: 0x12,
  listPorts: 0x13,
  pong: 0x81,
  stdout: 0x82,
  stderr: 0x83,
  exit: 0x84,
  error: 0x85,
  result: 0x86,
  proof: 0x87,
  output: 0x88,
  exited: 0x89,
} as const;

export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const knownTypes = new Set<number>(Object.values(FrameType));

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

export interface PongBody {
  protocolVersion: number;
}

export interface ExecRequest {
  command: string[];
  /** Inside the environment; relative paths are relative to the workspace folder. */
  cwd?: string;
  /** Added to the environment's own variables (containerEnv and the user's). */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** When true, `stdin` frames follow and `stdinEnd` closes the command's input. */
  stdin: boolean;
}

export interface ExitBody {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

export interface ReadFileRequest {
  path: string;
  maxBytes: number;
}

export interface ReadFileResult {
  size: number;
  mode: number;
}

export interface WriteFileRequest {
  path: string;
  size: number;
  mode?: number;
}

export interface ListDirRequest {
  path: string;
}

export interface DirEntryBody {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
}

export interface ListDirResult {
  entries: DirEntryBody[];
}

export interface SpawnRequest {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Ends the whole process group (SIGTERM, then SIGKILL after envd's grace) when reached. */
  timeoutMs?: number;
  /** Runs the command on a pseudo-terminal of this size; its output is then one stream. */
  pty?: { cols: number; rows: number; term?: string };
  /**
   * Ends the process group once no client has been attached for this long; 0: when the last
   * client detaches. Before its first attach a process always gets {@link FIRST_ATTACH_WINDOW_MS}.
   */
  unattachedGraceMs?: number;
  labels?: Record<string, string>;
}

/** How long a process with a short `unattachedGraceMs` waits for its first client at least. */
export const FIRST_ATTACH_WINDOW_MS = 10_000;

export type OutputStream = 'stdout' | 'stderr' | 'pty';

export interface ProcessInfoBody {
  id: string;
  command: string[];
  pty: boolean;
  pid: number;
  startedAt: string;
  state: 'running' | 'exited';
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  endedAt: string | null;
  /** Bytes of output so far: the offset the next output byte gets. Offsets never reset. */
  outputBytes: number;
  labels: Record<string, string>;
}

export interface ProcessRef {
  id: string;
}

export interface AttachRequest {
  id: string;
  /** Replay buffered output from here; absent: only output from now on. */
  fromOffset?: number;
}

export interface AttachResult {
  /** Where replay starts: `fromOffset`, or later when that output is no longer held. */
  replayedFrom: number;
  process: ProcessInfoBody;
}

export interface ResizeBody {
  cols: number;
  rows: number;
}

export interface ProcessListBody {
  processes: ProcessInfoBody[];
}

export interface SignalRequest {
  id: string;
  signal: string;
}

export interface TcpConnectRequest {
  /** A loopback address, `localhost` or the environment's own host name; 127.0.0.1 if absent. */
  host?: string;
  port: number;
}

export interface PortBody {
  port: number;
  address: string;
  family: 'ipv4' | 'ipv6';
  loopbackOnly: boolean;
  process: { pid: number; command: string } | null;
}

export interface PortListBody {
  ports: PortBody[];
}

const streamCodes: Record<OutputStream, number> = { stdout: 1, stderr: 2, pty: 3 };
const streamsByCode: Array<OutputStream | undefined> = [undefined, 'stdout', 'stderr', 'pty'];

/** An `output` payload starts with the stream (u8) and the offset of its first byte (u64). */
export const OUTPUT_HEADER_BYTES = 9;

export function encodeOutput(stream: OutputStream, offset: number, bytes: Uint8Array): Buffer {
  const payload = Buffer.allocUnsafe(OUTPUT_HEADER_BYTES + bytes.length);
  payload.writeUInt8(streamCodes[stream], 0);
  payload.writeBigUInt64BE(BigInt(offset), 1);
  payload.set(bytes, OUTPUT_HEADER_BYTES);
  return encodeFrame(FrameType.output, payload);
}

export function decodeOutput(frame: Frame): {
  stream: OutputStream;
  offset: number;
  bytes: Buffer;
} {
  const payload = frame.payload;
  if (payload.length < OUTPUT_HEADER_BYTES) throw new ProtocolError('output frame is too short');
  const stream = streamsByCode[payload.readUInt8(0)];
  if (stream === undefined) throw new ProtocolError('output frame names an unknown stream');
  const offset = payload.readBigUInt64BE(1);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('output offset too large');
  return { stream, offset: Number(offset), bytes: payload.subarray(OUTPUT_HEADER_BYTES) };
}

/** `code` is one of the stable error codes of `@hangar/api` (`path_outside_environment`, ...). */
export interface ErrorFrameBody {
  code: string;
  message: string;
}

/** A peer broke the framing rules; the connection cannot continue. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeFrame(type: FrameType, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new ProtocolError(`frame payload of ${payload.length} bytes exceeds the limit`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt8(type, 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeJsonFrame(type: FrameType, body: unknown): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Splits `bytes` into frames of `type` of at most {@link DATA_CHUNK_BYTES} each. */
export function encodeChunked(type: FrameType, bytes: Uint8Array): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += DATA_CHUNK_BYTES) {
    frames.push(encodeFrame(type, bytes.subarray(offset, offset + DATA_CHUNK_BYTES)));
  }
  return frames;
}

export function decodeJson(frame: Frame): unknown {
  try {
    return JSON.parse(frame.payload.toString('utf8')) as unknown;
  } catch {
    throw new ProtocolError(`frame of type 0x${frame.type.toString(16)} is not valid JSON`);
  }
}

/** Reassembles frames from a byte stream cut anywhere, without copying whole payloads twice. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const header = this.peek(FRAME_HEADER_BYTES);
      const payloadBytes = header.readUInt32BE(0);
      const type = header.readUInt8(4);
      if (payloadBytes > MAX_FRAME_PAYLOAD_BYTES) {
        throw new ProtocolError(`frame payload of ${payloadBytes} bytes exceeds the limit`);
      }
      if (!knownTypes.has(type)) {
        throw new ProtocolError(`unknown frame type 0x${type.toString(16)}`);
      }
      if (this.buffered < FRAME_HEADER_BYTES + payloadBytes) break;
      this.take(FRAME_HEADER_BYTES);
      frames.push({ type: type as FrameType, payload: this.take(payloadBytes) });
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peek(bytes: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= bytes) return first.subarray(0, bytes);
    const parts: Buffer[] = [];
    let gathered = 0;
    for (const chunk of this.chunks) {
      if (gathered >= bytes) break;
      parts.push(chunk);
      gathered += chunk.length;
    }
    return Buffer.concat(parts).subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= bytes) {
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      this.buffered -= bytes;
      return first.subarray(0, bytes);
    }
    const parts: Buffer[] = [];
    let needed = bytes;
    while (needed > 0) {
      const chunk = this.chunks.shift();
      if (!chunk) throw new ProtocolError('frame decoder ran out of bytes');
      if (chunk.length > needed) {
        parts.push(chunk.subarray(0, needed));
        this.chunks.unshift(chunk.subarray(needed));
        needed = 0;
      } else {
        parts.push(chunk);
        needed -= chunk.length;
      }
    }
    this.buffered -= bytes;
    return Buffer.concat(parts, bytes);
  }
}
