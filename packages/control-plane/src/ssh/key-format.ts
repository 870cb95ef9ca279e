import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { HangarError, sshKeyTypes, type SshKeyType } from '@hangar/api';

/** One public key, parsed from its OpenSSH wire form and checked. */
export interface SshPublicKey {
  keyType: SshKeyType;
  /** The key blob (RFC 4253 section 6.6), base64, as it appears in a public key line. */
  blob: string;
  /** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  bits: number;
  /** `<type> <blob>`: the line without its comment. */
  line: string;
}

export const minRsaBits = 2048;
const maxRsaBits = 16384;

const curves = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwk: 'P-256', coordinateBytes: 32, bits: 256 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwk: 'P-384', coordinateBytes: 48, bits: 384 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwk: 'P-521', coordinateBytes: 66, bits: 521 },
} as const;

const typeList =
  'ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa';

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** Reads the length-prefixed strings of the SSH wire format, refusing anything left over. */
class WireReader {
  private offset = 0;

  constructor(private readonly bytes: Buffer) {}

  string(): Buffer | undefined {
    if (this.offset + 4 > this.bytes.length) return undefined;
    const length = this.bytes.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + length > this.bytes.length) return undefined;
    this.offset = start + length;
    return this.bytes.subarray(start, start + length);
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }
}

function isKeyType(value: string): value is SshKeyType {
  return (sshKeyTypes as readonly string[]).includes(value);
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** A positive mpint without its sign byte; undefined when negative or not minimal. */
function unsignedMpint(value: Buffer): Buffer | undefined {
  if (value.length === 0 || (value[0] ?? 0) & 0x80) return undefined;
  if (value[0] === 0) {
    if (value.length === 1 || ((value[1] ?? 0) & 0x80) === 0) return undefined;
    return value.subarray(1);
  }
  return value;
}

function bitLength(value: Buffer): number {
  const first = value[0] ?? 0;
  return (value.length - 1) * 8 + (32 - Math.clz32(first));
}

/** Checks the key material itself: a point on its curve, an RSA modulus Node accepts. */
function checkMaterial(jwk: JsonWebKey): boolean {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

function parseBody(keyType: SshKeyType, reader: WireReader): { bits: number } | string {
  if (keyType === 'ssh-ed25519') {
    const key = reader.string();
    if (key?.length !== 32) return 'has an Ed25519 key that is not 32 bytes';
    if (!checkMaterial({ kty: 'OKP', crv: 'Ed25519', x: base64url(key) })) {
      return 'has an Ed25519 key that is not valid';
    }
    return { bits: 256 };
  }
  if (keyType === 'ssh-rsa') {
    const e = reader.string();
    const n = reader.string();
    const exponent = e && unsignedMpint(e);
    const modulus = n && unsignedMpint(n);
    if (!exponent || !modulus) return 'has an RSA key whose numbers are not valid';
    const bits = bitLength(modulus);
    if (bits < minRsaBits) {
      return `is an RSA key of ${bits} bits; use at least ${minRsaBits} bits, or an Ed25519 key`;
    }
    if (bits > maxRsaBits) return `is an RSA key of ${bits} bits, more than ${maxRsaBits}`;
    const jwk = { kty: 'RSA', n: base64url(modulus), e: base64url(exponent) };
    if (!checkMaterial(jwk)) return 'has an RSA key that is not valid';
    return { bits };
  }
  const curve = curves[keyType];
  const name = reader.string()?.toString('latin1');
  const point = reader.string();
  if (name !== curve.name) return `names the curve ${name ?? '(none)'} instead of ${curve.name}`;
  const size = curve.coordinateBytes;
  if (point?.length !== 1 + 2 * size || point[0] !== 0x04) {
    return 'has an ECDSA point that is not an uncompressed point of its curve';
  }
  const jwk = {
    kty: 'EC',
    crv: curve.jwk,
    x: base64url(point.subarray(1, 1 + size)),
    y: base64url(point.subarray(1 + size)),
  };
  if (!checkMaterial(jwk)) return 'has an ECDSA point that is not on its curve';
  return { bits: curve.bits };
}

/** SHA256 fingerprint of a key blob, as OpenSSH prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Parses a key blob (the wire form, base64) and checks it: a known type, every field present
 * and nothing after them, key material that is valid for its type, RSA of at least 2048 bits.
 */
export function parseSshKeyBlob(base64: string, field: string): SshPublicKey {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw invalid(field, 'is not base64 key data');
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.toString('base64') !== base64) throw invalid(field, 'is not base64 key data');
  const reader = new WireReader(bytes);
  const keyType = reader.string()?.toString('latin1') ?? '';
  if (!isKeyType(keyType)) {
    const shown = /^[\x21-\x7e]{1,64}$/.test(keyType) ? keyType : '(unreadable)';
    throw invalid(field, `is a key of type ${shown}; accepted types are ${typeList}`);
  }
  const parsed = parseBody(keyType, reader);
  if (typeof parsed === 'string') throw invalid(field, parsed);
  if (!reader.done) throw invalid(field, 'has bytes after the key');
  return {
    keyType,
    blob: base64,
    fingerprint: sshFingerprint(bytes),
    bits: parsed.bits,
    line: `${keyType} ${base64}`,
  };
}

/**
 * Parses one OpenSSH public key line, `<type> <base64> [comment]`, as in `id_ed25519.pub` or a
 * known_hosts entry without its host names. Options in front of the type (authorized_keys
 * style), certificates and security-key types are refused. The comment is dropped.
 */
export function parseSshPublicKeyLine(text: string, field: string): SshPublicKey {
  const line = text.trim();
  if (/[\r\n]/.test(line)) throw invalid(field, 'must be one line: one public key');
  if (/PRIVATE KEY/.test(line)) {
    throw invalid(field, 'is a private key; send the public key (the .pub file) instead');
  }
  const [type = '', data = ''] = line.split(/[ \t]+/);
  if (!isKeyType(type)) {
    const shown = /^[\x21-\x7e]{1,64}$/.test(type) ? `"${type}"` : 'something else';
    throw invalid(
      field,
      `must start with the key type (${typeList}), not ${shown}; paste the whole .pub line`,
    );
  }
  const key = parseSshKeyBlob(data, field);
  if (key.keyType !== type) {
    throw invalid(field, `says ${type} but its key data is ${key.keyType}`);
  }
  return key;
}
