import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { signBytes, verifyBytes } from './keys.js';
import type { SecretDelivery } from './schemas/secrets.js';

/**
 * Everything a sealed secret is bound to. The client that seals a value and the runner that opens
 * it must agree on every member, so a ciphertext moved to another name, scope, version, runner or
 * delivery fails to open. The runner rebuilds this from the metadata it is sent, never from the
 * envelope.
 */
export interface SecretBinding {
  orgId: string;
  scope: 'org' | 'project' | 'user';
  /** '' for org secrets, the project name, or the user id. */
  scopeId: string;
  name: string;
  version: number;
  delivery: SecretDelivery;
  /** The variable name, the file path, or the git host the value is for. */
  target: string;
  runnerId: string;
  authorId: string;
}

/** The envelope format version and the context strings of its key derivation and signature. */
const envelopeVersion = 1;
const kdfInfo = 'hangar-secret-v1 key';
const signaturePrefix = 'hangar-secret-v1 signature\n';

interface Envelope {
  v: number;
  /** The sender's one-time X25519 public key, raw, base64url. */
  epk: string;
  iv: string;
  ct: string;
  tag: string;
  /** Ed25519 signature of the author's signing key over the binding and the four fields above. */
  sig: string;
}

export interface X25519KeyPair {
  /** Raw 32 bytes, base64url. */
  publicKey: string;
  /** Raw 32 bytes, base64url. */
  privateKey: string;
}

const x25519SpkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');
const x25519Pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function generateX25519(): X25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublic(publicKey), privateKey: rawPrivate(privateKey) };
}

function rawPublic(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(x25519SpkiPrefix.length)).toString('base64url');
}

function rawPrivate(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(x25519Pkcs8Prefix.length)).toString('base64url');
}

export function x25519PublicKeyObject(rawBase64url: string): KeyObject {
  const raw = Buffer.from(rawBase64url, 'base64url');
  if (raw.length !== 32) throw new Error('an X25519 public key is 32 bytes');
  return createPublicKey({
    key: Buffer.concat([x25519SpkiPrefix, raw]),
    format: 'der',
    type: 'spki',
  });
}

export function x25519PrivateKeyObject(rawBase64url: string): KeyObject {
  const raw = Buffer.from(rawBase64url, 'base64url');
  if (raw.length !== 32) throw new Error('an X25519 private key is 32 bytes');
  return createPrivateKey({
    key: Buffer.concat([x25519Pkcs8Prefix, raw]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function isValidX25519PublicKey(rawBase64url: string): boolean {
  try {
    x25519PublicKeyObject(rawBase64url);
    return true;
  } catch {
    return false;
  }
}

function keyFor(shared: Buffer, epk: string, recipient: string): Buffer {
  const salt = Buffer.concat([Buffer.from(epk, 'base64url'), Buffer.from(recipient, 'base64url')]);
  return Buffer.from(hkdfSync('sha256', shared, salt, kdfInfo, 32));
}

function signedBytes(binding: SecretBinding, parts: Omit<Envelope, 'v' | 'sig'>): string {
  return `${signaturePrefix}${canonicalJson({ binding, ...parts, v: envelopeVersion })}`;
}

/**
 * Seals `value` to one runner's X25519 key and signs it with the author's Ed25519 key. Only the
 * runner's private key opens it; the control plane, which stores it, cannot.
 */
export function sealSecret(options: {
  value: Buffer | string;
  binding: SecretBinding;
  runnerPublicKey: string;
  authorSigningKey: KeyObject;
}): string {
  const ephemeral = generateKeyPairSync('x25519');
  const epk = rawPublic(ephemeral.publicKey);
  const shared = diffieHellman({
    privateKey: ephemeral.privateKey,
    publicKey: x25519PublicKeyObject(options.runnerPublicKey),
  });
  const key = keyFor(shared, epk, options.runnerPublicKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(canonicalJson(options.binding)));
  const ct = Buffer.concat([cipher.update(Buffer.from(options.value)), cipher.final()]);
  const parts = {
    epk,
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
  const sig = signBytes(options.authorSigningKey, signedBytes(options.binding, parts));
  const envelope: Envelope = { v: envelopeVersion, ...parts, sig };
  return Buffer.from(JSON.stringify(envelope)).toString('base64url');
}

export type OpenResult =
  | { ok: true; value: Buffer }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'wrong_binding' };

function parseEnvelope(text: string): Envelope | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Envelope;
    const fields = [parsed.epk, parsed.iv, parsed.ct, parsed.tag, parsed.sig];
    if (parsed.v !== envelopeVersion || !fields.every((field) => typeof field === 'string')) {
      return undefined;
    }
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * Checks only the author's signature of an envelope over `binding`, without opening it: what the
 * control plane, which knows the binding but holds no runner key, can verify before it stores.
 */
export function verifySealedSecret(options: {
  envelope: string;
  binding: SecretBinding;
  authorVerifyKey: KeyObject;
}): boolean {
  const envelope = parseEnvelope(options.envelope);
  if (!envelope) return false;
  const { epk, iv, ct, tag, sig } = envelope;
  return verifyBytes(
    options.authorVerifyKey,
    signedBytes(options.binding, { epk, iv, ct, tag }),
    sig,
  );
}

/**
 * Opens an envelope with the runner's X25519 private key, after checking the author's signature
 * over `binding`. A binding that differs in any member from the one the envelope was sealed
 * under fails (`bad_signature` or `wrong_binding`), and no partial plaintext is returned.
 */
export function openSecret(options: {
  envelope: string;
  binding: SecretBinding;
  runnerPrivateKey: string;
  runnerPublicKey: string;
  authorVerifyKey: KeyObject;
}): OpenResult {
  const envelope = parseEnvelope(options.envelope);
  if (!envelope) return { ok: false, reason: 'malformed' };
  const { epk, iv, ct, tag, sig } = envelope;
  if (
    !verifyBytes(options.authorVerifyKey, signedBytes(options.binding, { epk, iv, ct, tag }), sig)
  ) {
    return { ok: false, reason: 'bad_signature' };
  }
  try {
    const shared = diffieHellman({
      privateKey: x25519PrivateKeyObject(options.runnerPrivateKey),
      publicKey: x25519PublicKeyObject(epk),
    });
    const key = keyFor(shared, epk, options.runnerPublicKey);
    // A full 16-byte tag only: GCM would otherwise accept a truncated one.
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(canonicalJson(options.binding)));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const value = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
    return { ok: true, value };
  } catch {
    return { ok: false, reason: 'wrong_binding' };
  }
}
