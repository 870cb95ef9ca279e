import type { KeyObject } from 'node:crypto';
import { signBytes, verifyBytes } from './keys.js';
import type { Actor } from './schemas/common.js';
import type { AccessOperation } from './schemas/environments.js';

/**
 * A short-lived grant the control plane signs and a runner checks offline: it names one runner
 * (audience), one environment, the actor and the operations allowed.
 */
export interface AccessClaims {
  iss: 'hangar';
  aud: string;
  org: string;
  env: string;
  act: Actor;
  ops: AccessOperation[];
  /** With `ports:connect`: the one port inside the environment the grant opens. */
  port?: number;
  iat: number;
  exp: number;
  jti: string;
}

const prefix = 'hat1';

export function signAccessToken(claims: AccessClaims, privateKey: KeyObject): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = signBytes(privateKey, `${prefix}.${payload}`);
  return `${prefix}.${payload}.${signature}`;
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_audience' };

export function verifyAccessToken(
  token: string,
  publicKey: KeyObject,
  expected: { audience: string; nowS?: number },
): AccessTokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) return { ok: false, reason: 'malformed' };
  const [, payload = '', signature = ''] = parts;
  if (!verifyBytes(publicKey, `${prefix}.${payload}`, signature)) {
    return { ok: false, reason: 'bad_signature' };
  }
  let claims: AccessClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AccessClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const nowS = expected.nowS ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS) return { ok: false, reason: 'expired' };
  if (claims.aud !== expected.audience) return { ok: false, reason: 'wrong_audience' };
  return { ok: true, claims };
}
