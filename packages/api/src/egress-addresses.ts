import { isIP } from 'node:net';

/**
 * IP addresses as 16 bytes (IPv4 as its IPv4-mapped IPv6 form), CIDR blocks, and host names as
 * the egress policy uses them: the control plane validates a policy with the same functions the
 * runner's proxy decides with, so the two never disagree on what a block or a pattern means.
 */

export interface Cidr {
  /** 16 bytes; an IPv4 block is stored in the mapped range `::ffff:0:0/96`. */
  bytes: Uint8Array;
  /** Prefix length over the 128 bits. */
  bits: number;
  /** The block as written, normalized (`10.0.0.0/8`, `fd00::/8`). */
  text: string;
}

function parseV4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  for (const [index, part] of parts.entries()) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[12 + index] = Number(part);
  }
  return bytes;
}

function parseV6(text: string): Uint8Array | undefined {
  if (isIP(text) !== 6) return undefined;
  let head = text;
  let tailV4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const leftGroups = groupsOf(left);
  const rightGroups = right === undefined ? [] : groupsOf(right);
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(Math.max(0, missing)).fill('0'), ...rightGroups];
  if (groups.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  if (tailV4) bytes.set(tailV4.subarray(12), 12);
  return bytes;
}

/** The 16 bytes of an IPv4 or IPv6 address (brackets and a zone id allowed), or undefined. */
export function parseAddress(text: string): Uint8Array | undefined {
  let value = text.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  if (isIP(value) === 4) return parseV4(value);
  return parseV6(value);
}

export function isIpLiteral(text: string): boolean {
  return parseAddress(text) !== undefined;
}

function isMapped(bytes: Uint8Array): boolean {
  return (
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  );
}

/** The address as text: dotted IPv4 for a mapped address, compressed IPv6 otherwise. */
export function formatAddress(bytes: Uint8Array): string {
  if (isMapped(bytes)) return Array.from(bytes.subarray(12)).join('.');
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push(((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0));
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8;) {
    let end = start;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - start > bestLength && end - start > 1) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLength).join(':');
  return `${left}::${right}`;
}

/** A CIDR block (`10.0.0.0/8`, `fd00::/8`, or a bare address for one host), or an error text. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseAddress(addressText);
  if (!bytes || addressText.includes('%') || addressText.startsWith('[')) {
    return `"${text}" is not a CIDR block: write an address and a prefix, such as 10.0.0.0/8`;
  }
  const v4 = isIP(addressText) === 4;
  const max = v4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return `"${text}" has a prefix outside 0..${max}`;
  }
  const bits = Number(prefixText) + (v4 ? 96 : 0);
  if (!sameBlock(bytes, withHostBitsCleared(bytes, bits), 128)) {
    return `"${text}" has host bits set; write ${formatAddress(withHostBitsCleared(bytes, bits))}/${prefixText}`;
  }
  return { bytes, bits, text: `${formatAddress(bytes)}/${prefixText}` };
}

function withHostBitsCleared(bytes: Uint8Array, bits: number): Uint8Array {
  const result = new Uint8Array(16);
  for (let index = 0; index < 16; index += 1) {
    const keep = Math.max(0, Math.min(8, bits - index * 8));
    result[index] = (bytes[index] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return result;
}

function sameBlock(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let index = 0; index < 16 && bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a[index] ?? 0) & mask) !== ((b[index] ?? 0) & mask)) return false;
  }
  return true;
}

export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  return sameBlock(cidr.bytes, address, cidr.bits);
}

/** The longest name DNS carries, and the form of one label (underscores occur in real names). */
const maxNameLength = 253;
const label = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The host a client asked for, as the proxy compares it: lower case, no trailing dot, an IP
 * address in its canonical form (IPv6 without brackets). Undefined when it is neither a DNS name
 * nor an IP address, so that nothing odd reaches the resolver.
 */
export function normalizeHost(host: string): string | undefined {
  const bytes = parseAddress(host);
  if (bytes) {
    if (host.includes('%')) return undefined;
    return formatAddress(bytes);
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > maxNameLength) return undefined;
  if (!name.split('.').every((part) => label.test(part))) return undefined;
  // A last label of digits or hex is an IPv4 address in a form inet_aton reads (`127.1`,
  // `0x7f.1`): never a DNS name, and refused rather than left to the resolver to interpret.
  if (/(^|\.)(0x[0-9a-f]*|[0-9]+)$/.test(name)) return undefined;
  return name;
}

/**
 * Why an allow-list host pattern can match nothing, or null: it must be an IP address, or a DNS
 * name (optionally `*.` before it) whose last label is not a number.
 */
export function hostPatternProblem(pattern: string): string | null {
  if (parseAddress(pattern)) {
    return pattern.includes('%') || pattern.startsWith('[')
      ? 'write the address without brackets or a zone'
      : null;
  }
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (name.includes('*')) return 'may hold * only as a leading "*." (any subdomain)';
  if (parseAddress(name)) return 'an IP address cannot take a wildcard';
  if (normalizeHost(name) === undefined) {
    return 'is neither an IP address nor a DNS name (letters, digits, - and _, not ending in a number)';
  }
  return null;
}
