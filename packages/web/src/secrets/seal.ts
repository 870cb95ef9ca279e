import type { SecretDelivery, SecretScope } from '../org-types.js';
import { concatBytes, fromBase64url, toBase64url, utf8 } from './bytes.js';
import { canonicalJson } from '../canonical-json.js';

/**
 * Everything a sealed value is bound to, as packages/api/src/sealed-secret.ts defines it: the
 * runner rebuilds it from the secret's metadata, so a ciphertext moved to another name, scope,
 * version, delivery, target, runner or author does not open. The members and their meaning must
 * stay identical to the API's; the seal tests open what this module seals with the API's and
 * the runner's openers.
 */
export interface SecretBinding {
  orgId: string;
  scope: SecretScope;
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
const x25519KeyBytes = 32;
const aesGcmTagBytes = 16;

interface EnvelopeParts {
  /** The one-time X25519 public key, raw, base64url. */
  epk: string;
  iv: string;
  ct: string;
  tag: string;
}

/** What the author signs: the binding and the four parts, in canonical JSON after a prefix. */
export function signedText(binding: SecretBinding, parts: EnvelopeParts): string {
  return `${signaturePrefix}${canonicalJson({ binding, ...parts, v: envelopeVersion })}`;
}

/** The AES-256-GCM key of one seal: HKDF-SHA256 of the X25519 secret, salted with both keys. */
async function sealingKey(
  shared: ArrayBuffer,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: concatBytes(ephemeralPublic, recipientPublic),
      info: utf8(kdfInfo),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
}

/**
 * Seals `value` to one runner's X25519 public key (raw, base64url) and signs it with the author's
 * Ed25519 key, all in this browser: what leaves the page opens only with that runner's private
 * key. The result is the envelope `PUT /v1/secrets` takes for that runner.
 */
export async function sealSecret(options: {
  value: Uint8Array<ArrayBuffer>;
  binding: SecretBinding;
  runnerPublicKey: string;
  signingKey: CryptoKey;
}): Promise<string> {
  const { subtle } = crypto;
  const recipientRaw = fromBase64url(options.runnerPublicKey);
  if (recipientRaw.length !== x25519KeyBytes) throw new Error('an X25519 public key is 32 bytes');
  const recipient = await subtle.importKey('raw', recipientRaw, { name: 'X25519' }, false, []);
  const ephemeral = (await subtle.generateKey({ name: 'X25519' }, true, [
    'deriveBits',
  ])) as CryptoKeyPair;
  const ephemeralRaw = new Uint8Array(await subtle.exportKey('raw', ephemeral.publicKey));
  const shared = await subtle.deriveBits(
    { name: 'X25519', public: recipient },
    ephemeral.privateKey,
    x25519KeyBytes * 8,
  );
  const key = await sealingKey(shared, ephemeralRaw, recipientRaw);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await subtle.encrypt(
      {
        name: 'AES-GCM',
        iv,
        additionalData: utf8(canonicalJson(options.binding)),
        tagLength: aesGcmTagBytes * 8,
      },
      key,
      options.value,
    ),
  );
  const parts: EnvelopeParts = {
    epk: toBase64url(ephemeralRaw),
    iv: toBase64url(iv),
    ct: toBase64url(sealed.subarray(0, sealed.length - aesGcmTagBytes)),
    tag: toBase64url(sealed.subarray(sealed.length - aesGcmTagBytes)),
  };
  const signature = await subtle.sign(
    { name: 'Ed25519' },
    options.signingKey,
    utf8(signedText(options.binding, parts)),
  );
  const envelope = { v: envelopeVersion, ...parts, sig: toBase64url(new Uint8Array(signature)) };
  return toBase64url(utf8(JSON.stringify(envelope)));
}
