import { EnvdError } from './errors.js';
import { isAllowedSignal, allowedSignals } from './process-group.js';
import type {
  AttachRequest,
  ProcessRef,
  ResizeBody,
  SignalRequest,
  SpawnRequest,
  TcpConnectRequest,
} from './protocol.js';

const MAX_ARGS = 100_000;
/** A spawned command is kept and listed, so its arguments are bounded more tightly than exec's. */
const MAX_SPAWN_COMMAND_BYTES = 64 * 1024;
const MAX_LABELS = 16;
const MAX_LABEL_KEY_CHARS = 64;
const MAX_LABEL_VALUE_CHARS = 256;
const MAX_TERMINAL_SIDE = 10_000;
const MAX_TERM_CHARS = 64;

type Fields = Record<string, unknown>;
type Fail = (message: string) => never;

/** Throws `invalid_request` prefixed with the request's name, so the client knows which field. */
function failer(request: string): Fail {
  return (message) => {
    throw new EnvdError('invalid_request', `${request}: ${message}`);
  };
}

function objectBody(body: unknown, bad: Fail): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    bad('the request must be an object');
  }
  return body as Fields;
}

export interface CommandFields {
  command: string[];
  cwd?: string;
  env: Record<string, string>;
  timeoutMs?: number;
}

/** `command`, `cwd`, `env` and `timeoutMs`, as `exec` and `spawn` both take them. */
export function parseCommandFields(raw: Fields, bad: Fail): CommandFields {
  const command = raw.command;
  if (!Array.isArray(command) || command.length === 0 || command.length > MAX_ARGS) {
    bad('command must be a non-empty list of strings');
  }
  const args = command as unknown[];
  if (!args.every((arg) => typeof arg === 'string' && !arg.includes('\0'))) {
    bad('every command argument must be a string without NUL bytes');
  }
  if (typeof args[0] !== 'string' || args[0].length === 0) bad('the program name is empty');
  if (raw.cwd !== undefined && (typeof raw.cwd !== 'string' || raw.cwd.includes('\0'))) {
    bad('cwd must be a string');
  }
  const env: Record<string, string> = {};
  if (raw.env !== undefined) {
    if (typeof raw.env !== 'object' || raw.env === null) bad('env must be an object');
    for (const [key, value] of Object.entries(raw.env)) {
      if (!/^[^=\0]+$/.test(key) || typeof value !== 'string' || value.includes('\0')) {
        bad(`env ${JSON.stringify(key)} must be a name without "=" and a string value`);
      }
      env[key] = value;
    }
  }
  const timeoutMs = raw.timeoutMs;
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) {
    bad('timeoutMs must be a positive number');
  }
  return {
    command: args as string[],
    ...(raw.cwd !== undefined ? { cwd: raw.cwd } : {}),
    env,
    ...(timeoutMs !== undefined ? { timeoutMs: timeoutMs } : {}),
  };
}

function terminalSide(value: unknown, field: string, bad: Fail): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    bad(`${field} must be a whole number from 1 to ${MAX_TERMINAL_SIDE}`);
  }
  if (value > MAX_TERMINAL_SIDE) bad(`${field} must be at most ${MAX_TERMINAL_SIDE}`);
  return value;
}

function parsePty(value: unknown, bad: Fail): SpawnRequest['pty'] {
  if (value === undefined) return undefined;
  const raw = objectBody(value, (message) => bad(`pty: ${message}`));
  for (const key of Object.keys(raw)) {
    if (!['cols', 'rows', 'term'].includes(key)) bad(`pty.${key} is not a known field`);
  }
  const cols = terminalSide(raw.cols, 'pty.cols', bad);
  const rows = terminalSide(raw.rows, 'pty.rows', bad);
  if (raw.term === undefined) return { cols, rows };
  const term = raw.term;
  if (typeof term !== 'string' || !/^[A-Za-z0-9._+-]+$/.test(term)) {
    bad('pty.term must be a terminal name such as xterm-256color');
  }
  if (term.length > MAX_TERM_CHARS) bad(`pty.term must be at most ${MAX_TERM_CHARS} characters`);
  return { cols, rows, term };
}

function parseLabels(value: unknown, bad: Fail): Record<string, string> {
  if (value === undefined) return {};
  const raw = objectBody(value, (message) => bad(`labels: ${message}`));
  const entries = Object.entries(raw);
  if (entries.length > MAX_LABELS) bad(`labels: at most ${MAX_LABELS} are allowed`);
  const labels: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(key) || key.length > MAX_LABEL_KEY_CHARS) {
      bad(`labels: ${JSON.stringify(key.slice(0, 80))} must be 1 to 64 letters, digits or _.:-`);
    }
    if (typeof item !== 'string' || item.length > MAX_LABEL_VALUE_CHARS) {
      bad(`labels.${key} must be a string of at most ${MAX_LABEL_VALUE_CHARS} characters`);
    }
    if (/\p{Cc}/u.test(item)) bad(`labels.${key} must not contain control characters`);
    labels[key] = item;
  }
  return labels;
}

const spawnFields = [
  'command',
  'cwd',
  'env',
  'timeoutMs',
  'pty',
  'unattachedGraceMs',
  'labels',
] as const;

export function parseSpawnRequest(body: unknown): SpawnRequest {
  const bad: Fail = failer('spawn');
  const raw = objectBody(body, bad);
  for (const key of Object.keys(raw)) {
    if (!(spawnFields as readonly string[]).includes(key)) bad(`${key} is not a known field`);
  }
  const fields = parseCommandFields(raw, bad);
  const commandBytes = fields.command.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
  if (commandBytes > MAX_SPAWN_COMMAND_BYTES) {
    bad(
      `the command takes ${commandBytes} bytes, more than the ${MAX_SPAWN_COMMAND_BYTES} ` +
        'allowed; put it in a script and run that',
    );
  }
  const grace = raw.unattachedGraceMs;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    bad('unattachedGraceMs must be a whole number of milliseconds, 0 or more');
  }
  const pty = parsePty(raw.pty, bad);
  return {
    ...fields,
    ...(pty !== undefined ? { pty } : {}),
    ...(grace !== undefined ? { unattachedGraceMs: grace } : {}),
    labels: parseLabels(raw.labels, bad),
  };
}

function processId(value: unknown, bad: Fail): string {
  if (typeof value !== 'string' || !/^prc_[0-9a-z]{8,40}$/.test(value)) {
    bad('id must be a process id such as prc_0123456789abcdef');
  }
  return value;
}

export function parseProcessRef(body: unknown, request: string): ProcessRef {
  const bad: Fail = failer(request);
  return { id: processId(objectBody(body, bad).id, bad) };
}

export function parseAttachRequest(body: unknown): AttachRequest {
  const bad: Fail = failer('attach');
  const raw = objectBody(body, bad);
  const id = processId(raw.id, bad);
  const from = raw.fromOffset;
  if (from === undefined) return { id };
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
    bad('fromOffset must be a whole number of bytes, 0 or more');
  }
  return { id, fromOffset: from };
}

export function parseSignalRequest(body: unknown): SignalRequest {
  const bad: Fail = failer('signal');
  const raw = objectBody(body, bad);
  const id = processId(raw.id, bad);
  if (!isAllowedSignal(raw.signal)) bad(`signal must be one of ${allowedSignals.join(', ')}`);
  return { id, signal: raw.signal };
}

export function parseResize(body: unknown): ResizeBody {
  const bad: Fail = failer('resize');
  const raw = objectBody(body, bad);
  return { cols: terminalSide(raw.cols, 'cols', bad), rows: terminalSide(raw.rows, 'rows', bad) };
}

export function parseTcpConnectRequest(body: unknown): TcpConnectRequest {
  const bad: Fail = failer('tcpConnect');
  const raw = objectBody(body, bad);
  const port = raw.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    bad('port must be a whole number from 1 to 65535');
  }
  if (raw.host === undefined) return { port };
  const host = raw.host;
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) {
    bad('host must be a host name or an address');
  }
  return { host, port };
}
