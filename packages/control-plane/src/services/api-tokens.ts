import { randomBytes, timingSafeEqual } from 'node:crypto';
import { HangarError, newId, sha256Hex, scopes as knownScopes, type Scope } from '@hangar/api';
import type { Queryable } from '../storage/database.js';

/**
 * API tokens look like `hgr_<token id>_<secret>`. Only the SHA-256 of the secret is stored, so the
 * database alone never lets anyone act as a user. The id lets a lookup find the row without
 * comparing hashes across users.
 */
const tokenPattern = /^hgr_(tok_[0-9a-z]{8,40})_([A-Za-z0-9_-]{40,64})$/;

export interface IssuedToken {
  token: string;
  id: string;
  expiresAt: number;
}

export interface TokenRow {
  id: string;
  user_id: string;
  org_id: string;
  secret_hash: string;
  scopes: string;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
  role: string;
  [key: string]: string | number | null;
}

export async function issueApiToken(
  tx: Queryable,
  options: { userId: string; orgId: string; scopes: readonly Scope[]; expiresInS: number },
): Promise<IssuedToken> {
  const id = newId('tok');
  const secret = randomBytes(32).toString('base64url');
  const now = Date.now();
  const expiresAt = now + options.expiresInS * 1000;
  await tx.execute(
    `INSERT INTO api_tokens (id, user_id, org_id, secret_hash, scopes, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      options.userId,
      options.orgId,
      sha256Hex(secret),
      JSON.stringify(options.scopes),
      expiresAt,
      now,
    ],
  );
  return { token: `hgr_${id}_${secret}`, id, expiresAt };
}

export type TokenCheck =
  | { ok: true; row: TokenRow; scopes: Scope[] }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked'; row?: TokenRow };

export async function checkApiToken(db: Queryable, token: string): Promise<TokenCheck> {
  const match = tokenPattern.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id = '', secret = ''] = match;
  const rows = await db.query<TokenRow>(
    `SELECT t.*, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`,
    [id],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  const expected = Buffer.from(row.secret_hash, 'hex');
  const actual = Buffer.from(sha256Hex(secret), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, reason: 'unknown' };
  }
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked', row };
  if (row.expires_at <= Date.now()) return { ok: false, reason: 'expired', row };
  return { ok: true, row, scopes: parseScopes(row.scopes) };
}

function parseScopes(text: string): Scope[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new HangarError('internal', 'token scopes are corrupt');
  return parsed.filter((scope): scope is Scope => knownScopes.includes(scope as Scope));
}
