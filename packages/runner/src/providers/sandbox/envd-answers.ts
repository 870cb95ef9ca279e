import { isIP } from 'node:net';
import { ProtocolError } from '@hangar/envd/protocol.js';
import type { ListeningPort, ProcessInfo, ProcessStream } from '../provider.js';

/**
 * envd runs as the environment's user, so whatever it answers is checked here before the runner
 * uses it: shapes, types and sizes, with a `ProtocolError` naming the first thing wrong.
 */

const MAX_COMMAND_ARGS = 100_000;
const MAX_COMMAND_CHARS = 256 * 1024;
const MAX_LABELS = 16;
/** Linux's largest pid (`pid_max` cannot go higher). */
const MAX_PID = 4_194_304;
/** More processes than envd keeps (128 running and 50 exited), with room to spare. */
export const MAX_LISTED_PROCESSES = 1000;
export const MAX_LISTED_PORTS = 4096;

type Fields = Record<string, unknown>;

function fail(what: string): never {
  throw new ProtocolError(`envd sent ${what}`);
}

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`a bad ${what}`);
  return value as Fields;
}

function timestamp(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 40 || !Number.isFinite(Date.parse(value))) {
    fail(`a bad ${field}`);
  }
  return value;
}

function nullableInteger(value: unknown, field: string, min: number, max: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`a bad ${field}`);
  }
  return value;
}

function command(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_COMMAND_ARGS) {
    fail('a bad process command');
  }
  let chars = 0;
  for (const arg of value) {
    if (typeof arg !== 'string') fail('a process command with a non-string argument');
    chars += arg.length;
  }
  if (chars > MAX_COMMAND_CHARS) fail('a process command that is too long');
  return value as string[];
}

function labels(value: unknown): Record<string, string> {
  const raw = object(value, 'process labels');
  const entries = Object.entries(raw);
  if (entries.length > MAX_LABELS) fail('too many process labels');
  for (const [key, item] of entries) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(key) || typeof item !== 'string' || item.length > 256) {
      fail('a bad process label');
    }
  }
  return raw as Record<string, string>;
}

export function parseProcessInfo(value: unknown): ProcessInfo {
  const raw = object(value, 'process');
  if (typeof raw.id !== 'string' || !/^prc_[0-9a-z]{8,40}$/.test(raw.id)) fail('a bad process id');
  if (typeof raw.pty !== 'boolean') fail('a bad process pty flag');
  if (raw.state !== 'running' && raw.state !== 'exited') fail('a bad process state');
  if (typeof raw.timedOut !== 'boolean') fail('a bad process timedOut flag');
  const pid = nullableInteger(raw.pid, 'process pid', 1, MAX_PID);
  if (pid === null) fail('a process without a pid');
  const signal = raw.signal;
  if (signal !== null && (typeof signal !== 'string' || !/^SIG[A-Z0-9+]{1,16}$/.test(signal))) {
    fail('a bad process signal');
  }
  const outputBytes = raw.outputBytes;
  if (typeof outputBytes !== 'number' || !Number.isSafeInteger(outputBytes) || outputBytes < 0) {
    fail('a bad process outputBytes');
  }
  return {
    id: raw.id,
    command: command(raw.command),
    pty: raw.pty,
    pid,
    startedAt: timestamp(raw.startedAt, 'process startedAt'),
    state: raw.state,
    exitCode: nullableInteger(raw.exitCode, 'process exitCode', -255, 255),
    signal,
    timedOut: raw.timedOut,
    endedAt: raw.endedAt === null ? null : timestamp(raw.endedAt, 'process endedAt'),
    outputBytes,
    labels: labels(raw.labels),
  };
}

export function parseProcessList(value: unknown): ProcessInfo[] {
  const list = object(value, 'process list').processes;
  if (!Array.isArray(list) || list.length > MAX_LISTED_PROCESSES) fail('a bad process list');
  return list.map(parseProcessInfo);
}

export function parseAttachResult(value: unknown): { replayedFrom: number; process: ProcessInfo } {
  const raw = object(value, 'attach result');
  const from = raw.replayedFrom;
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) {
    fail('a bad replayedFrom');
  }
  const process = parseProcessInfo(raw.process);
  if (from > process.outputBytes) fail('a replayedFrom past the end of the output');
  return { replayedFrom: from, process };
}

/** The streams a process may produce: `pty` for a terminal, stdout and stderr otherwise. */
export function streamAllowed(stream: ProcessStream, pty: boolean): boolean {
  return pty ? stream === 'pty' : stream !== 'pty';
}

/** Control characters in a name taken from the environment are replaced, so it prints safely. */
function printable(value: string): string {
  return value.replace(/\p{Cc}/gu, '?');
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || /^::ffff:127\./i.test(address);
}

function parsePort(value: unknown): ListeningPort {
  const raw = object(value, 'port');
  const port = nullableInteger(raw.port, 'port number', 1, 65_535);
  if (port === null) fail('a port without a number');
  const family = raw.family;
  if (family !== 'ipv4' && family !== 'ipv6') fail('a bad port family');
  const address = raw.address;
  if (typeof address !== 'string' || isIP(address) !== (family === 'ipv4' ? 4 : 6)) {
    fail('a bad port address');
  }
  if (raw.loopbackOnly !== isLoopback(address)) fail('a port whose loopbackOnly is wrong');
  let owner: ListeningPort['process'] = null;
  if (raw.process !== null) {
    const process = object(raw.process, 'port process');
    const pid = nullableInteger(process.pid, 'port process pid', 1, MAX_PID);
    if (pid === null || typeof process.command !== 'string' || process.command.length > 64) {
      fail('a bad port process');
    }
    owner = { pid, command: printable(process.command) };
  }
  return { port, address, family, loopbackOnly: isLoopback(address), process: owner };
}

export function parsePortList(value: unknown): ListeningPort[] {
  const list = object(value, 'port list').ports;
  if (!Array.isArray(list) || list.length > MAX_LISTED_PORTS) fail('a bad port list');
  return list.map(parsePort);
}
