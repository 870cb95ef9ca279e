import { resultOf, type Client, type Result } from '../client.js';
import { toBase64url } from './bytes.js';
import type { KeyStore } from './key-store.js';

/** The signing key as this browser keeps it: the private half can sign but never be read. */
interface StoredSigningKey {
  privateKey: CryptoKey;
  /** The raw Ed25519 public key, base64url, as the control plane lists it. */
  publicKey: string;
}

export interface ActiveSigningKey {
  id: string;
  fingerprint: string;
  privateKey: CryptoKey;
  /** True when this call made the key or registered it with the control plane. */
  registered: boolean;
}

/**
 * One key per user of one organization, in this browser profile.
 *
 * Known gap: another browser, or cleared site data, makes and registers a new key; the old one
 * stays in force until revoked (`DELETE /v1/signing-keys/{id}`), and the page does not list
 * signing keys yet. A page listing them with a revoke button would close it.
 */
export function signingKeyName(user: { orgId: string; userId: string }): string {
  return `signing-key:${user.orgId}:${user.userId}`;
}

/**
 * A new Ed25519 key made by WebCrypto as non-extractable: its private half stays inside the
 * browser's key store and no script, this page's included, can export it.
 */
async function makeSigningKey(): Promise<StoredSigningKey> {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64url(raw) };
}

/**
 * The user's signing key, registered with the control plane: the one this browser keeps, or a
 * new one made, kept and registered (`POST /v1/signing-keys`) on first use. A kept key the
 * control plane lists as revoked is replaced; a kept key it does not list is registered again.
 */
export async function ensureSigningKey(
  client: Client,
  store: KeyStore,
  user: { orgId: string; userId: string },
): Promise<Result<ActiveSigningKey>> {
  const listed = await resultOf(client.GET('/v1/signing-keys'));
  if (!listed.ok) return listed;
  const name = signingKeyName(user);
  let kept = await store.get<StoredSigningKey>(name);
  let known = kept && listed.data.signingKeys.find((key) => key.publicKey === kept?.publicKey);
  if (!kept || known?.revokedAt !== undefined) {
    kept = await makeSigningKey();
    await store.put(name, kept);
    known = undefined;
  }
  if (known) {
    return {
      ok: true,
      data: {
        id: known.id,
        fingerprint: known.fingerprint,
        privateKey: kept.privateKey,
        registered: false,
      },
    };
  }
  const added = await resultOf(
    client.POST('/v1/signing-keys', { body: { publicKey: kept.publicKey } }),
  );
  if (!added.ok) return added;
  const { id, fingerprint } = added.data;
  return { ok: true, data: { id, fingerprint, privateKey: kept.privateKey, registered: true } };
}
