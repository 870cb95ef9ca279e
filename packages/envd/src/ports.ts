import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Connection } from './connection.js';
import { FrameType, type PortBody, type PortListBody } from './protocol.js';

/** The `st` column of /proc/net/tcp for a listening socket. */
const TCP_LISTEN = '0A';
/** More listeners than this are not reported (the rest are dropped, lowest ports kept). */
export const MAX_PORTS = 1024;

export interface ListenEntry {
  family: 'ipv4' | 'ipv6';
  address: string;
  port: number;
  inode: number;
}

/**
 * The kernel prints an address as 32-bit words in the machine's byte order; on a little-endian
 * machine each word's bytes come out reversed.
 */
function addressBytes(hex: string, littleEndian: boolean): Buffer | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  if (littleEndian) {
    for (let word = 0; word < bytes.length; word += 4) bytes.subarray(word, word + 4).reverse();
  }
  return bytes;
}

function formatIpv6(bytes: Buffer): string {
  if (bytes.subarray(0, 10).every((byte) => byte === 0) && bytes.readUInt16BE(10) === 0xffff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2));
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength && length >= 2) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

export function decodeAddress(
  hex: string,
  littleEndian = endianness() === 'LE',
): { family: 'ipv4' | 'ipv6'; address: string } | undefined {
  const bytes = addressBytes(hex, littleEndian);
  if (!bytes) return undefined;
  if (bytes.length === 4) return { family: 'ipv4', address: [...bytes].join('.') };
  return { family: 'ipv6', address: formatIpv6(bytes) };
}

/** The listening sockets of one /proc/net/tcp or tcp6 text; other lines are skipped. */
export function parseProcNetTcp(text: string, littleEndian = endianness() === 'LE'): ListenEntry[] {
  const entries: ListenEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, state, inode] = [fields[1], fields[3], fields[9]];
    if (local === undefined || state !== TCP_LISTEN || inode === undefined) continue;
    const [hexAddress, hexPort] = local.split(':');
    if (hexAddress === undefined || hexPort === undefined || !/^[0-9A-Fa-f]{4}$/.test(hexPort)) {
      continue;
    }
    const decoded = decodeAddress(hexAddress, littleEndian);
    if (!decoded || !/^\d+$/.test(inode)) continue;
    entries.push({ ...decoded, port: parseInt(hexPort, 16), inode: Number(inode) });
  }
  return entries;
}

export function isLoopbackListener(entry: { family: string; address: string }): boolean {
  if (entry.family === 'ipv4') return entry.address.startsWith('127.');
  return entry.address === '::1' || /^::ffff:127\./.test(entry.address);
}

/** Which process holds each of `inodes`, from /proc/<pid>/fd; the lowest pid wins. */
export function socketOwners(
  inodes: Set<number>,
  procRoot = '/proc',
): Map<number, { pid: number; command: string }> {
  const owners = new Map<number, { pid: number; command: string }>();
  let pids: number[];
  try {
    pids = readdirSync(procRoot)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  } catch {
    return owners;
  }
  for (const pid of pids) {
    if (owners.size === inodes.size) break;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      const inode = match?.[1] === undefined ? undefined : Number(match[1]);
      if (inode === undefined || !inodes.has(inode) || owners.has(inode)) continue;
      owners.set(inode, { pid, command: commandOf(procRoot, pid) });
    }
  }
  return owners;
}

function commandOf(procRoot: string, pid: number): string {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim().slice(0, 64);
  } catch {
    return '';
  }
}

/** One entry per family, address and port; the first one with a known process names it. */
export function mergeListeners(
  entries: ListenEntry[],
  owners: Map<number, { pid: number; command: string }>,
): PortBody[] {
  const byKey = new Map<string, PortBody>();
  for (const entry of entries) {
    const key = `${entry.family}|${entry.address}|${entry.port}`;
    const owner = owners.get(entry.inode) ?? null;
    const existing = byKey.get(key);
    if (existing) {
      existing.process ??= owner;
      continue;
    }
    byKey.set(key, {
      port: entry.port,
      address: entry.address,
      family: entry.family,
      loopbackOnly: isLoopbackListener(entry),
      process: owner,
    });
  }
  return [...byKey.values()]
    .sort((a, b) => a.port - b.port || a.family.localeCompare(b.family))
    .slice(0, MAX_PORTS);
}

function readProcFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The listening TCP sockets of the network namespace envd runs in. */
export function listListeningPorts(procRoot = '/proc'): PortBody[] {
  const entries = [
    ...parseProcNetTcp(readProcFile(`${procRoot}/net/tcp`)),
    ...parseProcNetTcp(readProcFile(`${procRoot}/net/tcp6`)),
  ];
  const owners = socketOwners(new Set(entries.map((entry) => entry.inode)), procRoot);
  return mergeListeners(entries, owners);
}

export function handleListPorts(conn: Connection): void {
  const body: PortListBody = { ports: listListeningPorts() };
  conn.sendChunked(FrameType.data, Buffer.from(JSON.stringify(body), 'utf8'));
  conn.send(FrameType.dataEnd);
  conn.end();
}
