import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  createHash,
  type KeyObject,
} from 'node:crypto';

/** An Ed25519 key pair kept as raw 32-byte halves, base64url-encoded, for storage in JSON. */
export interface Ed25519KeyPair {
  publicKey: string;
  privateKey: string;
}

const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export function generateEd25519(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const rawPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(spkiPrefix.length);
  const rawPrivate = privateKey
    .export({ format: 'der', type: 'pkcs8' })
    .subarray(pkcs8Prefix.length);
  return {
    publicKey: Buffer.from(rawPublic).toString('base64url'),
    privateKey: Buffer.from(rawPrivate).toString('base64url'),
  };
}

export function publicKeyObject(rawBase64url: string): KeyObject {
  const raw = Buffer.from(rawBase64url, 'base64url');
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
}

export function privateKeyObject(rawBase64url: string): KeyObject {
  const raw = Buffer.from(rawBase64url, 'base64url');
  if (raw.length !== 32) throw new Error('an Ed25519 private key is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, raw]), format: 'der', type: 'pkcs8' });
}

export function isValidPublicKey(rawBase64url: string): boolean {
  try {
    publicKeyObject(rawBase64url);
    return true;
  } catch {
    return false;
  }
}

export function signBytes(privateKey: KeyObject, data: Buffer | string): string {
  return sign(null, Buffer.from(data), privateKey).toString('base64url');
}

export function verifyBytes(
  publicKey: KeyObject,
  data: Buffer | string,
  signature: string,
): boolean {
  try {
    return verify(null, Buffer.from(data), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** `SHA256:` and the unpadded base64 digest of the raw key, as OpenSSH prints fingerprints. */
export function fingerprint(rawBase64url: string): string {
  const digest = createHash('sha256').update(Buffer.from(rawBase64url, 'base64url')).digest();
  return `SHA256:${digest.toString('base64').replace(/=+$/, '')}`;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
