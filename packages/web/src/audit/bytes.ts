/** Byte helpers for WebCrypto, written against the platform only (no Node Buffer). */

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

export function hexOf(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

const base64urlPattern = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * The bytes of a base64url text (padding allowed), or undefined when it is not base64url. Stricter
 * than Node's decoder, which skips what it cannot read: a malformed signature is then refused
 * here even where Node might have decoded a valid one from it.
 */
export function base64urlBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!base64urlPattern.test(text)) return undefined;
  const plain = text.replace(/=+$/, '').replaceAll('-', '+').replaceAll('_', '/');
  if (plain.length % 4 === 1) return undefined;
  try {
    const binary = atob(plain.padEnd(Math.ceil(plain.length / 4) * 4, '='));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** Standard base64 without padding, as OpenSSH prints fingerprints. */
export function base64Unpadded(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/=+$/, '');
}

export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> {
  return crypto.subtle.digest('SHA-256', bytes);
}
