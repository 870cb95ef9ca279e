import { fromBase64url, toBase64Unpadded } from './bytes.js';

/**
 * `SHA256:` and the unpadded base64 SHA-256 of a raw public key: the form the runner prints in
 * its log and the CLI prints when it seals, so a person can compare them by eye.
 */
export async function fingerprintOf(rawBase64url: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', fromBase64url(rawBase64url));
  return `SHA256:${toBase64Unpadded(new Uint8Array(digest))}`;
}
