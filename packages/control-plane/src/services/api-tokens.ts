import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  HangarError,
  newId,
  sha256Hex,
  scopes as knownScopes,
  type ApiToken,
  type Scope,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { activeDescendants, lineageRefusal } from './token-lineage.js';

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
  createdAt: number;
}

/** The columns of a token that may be shown: everything but the hash. */
export interface StoredToken {
  id: string;
  user_id: string;
  org_id: string;
  scopes: string;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  created_at: number;
  [key: string]: string | number | null;
}

export interface TokenRow extends StoredToken {
  secret_hash: string;
  role: string;
  /** When the token's user was removed from the organization; null while a member. */
  user_removed_at: number | null;
}

export async function issueApiToken(
  tx: Queryable,
  options: {
    userId: string;
    orgId: string;
    scopes: readonly Scope[];
    expiresInS: number;
    /** The token the request that makes this one came with: revoking it revokes this too. */
    parentId?: string;
    /** 'session' for a token from a sign-in; 'token' (the default) for a personal one. */
    kind?: 'token' | 'session';
  },
): Promise<IssuedToken> {
  const id = newId('tok');
  const secret = randomBytes(32).toString('base64url');
  const now = Date.now();
  const expiresAt = now + options.expiresInS * 1000;
  await tx.execute(
    `INSERT INTO api_tokens (id, user_id, org_id, secret_hash, scopes, expires_at, created_at,
       parent_id, kind)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      id,
      options.userId,
      options.orgId,
      sha256Hex(secret),
      JSON.stringify(options.scopes),
      expiresAt,
      now,
      options.parentId ?? null,
      options.kind ?? 'token',
    ],
  );
  return { token: `hgr_${id}_${secret}`, id, expiresAt, createdAt: now };
}

/**
 * Why a token is refused: `removed` when its user was removed from the organization, `revoked`
 * when it or a token above it was, `too deep` when it was made through more tokens than allowed.
 */
export type TokenRefusal = 'malformed' | 'unknown' | 'expired' | 'revoked' | 'removed' | 'too deep';

export type TokenCheck =
  | { ok: true; row: TokenRow; scopes: Scope[] }
  | { ok: false; reason: TokenRefusal; row?: TokenRow };

export async function checkApiToken(db: Queryable, token: string): Promise<TokenCheck> {
  const match = tokenPattern.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id = '', secret = ''] = match;
  const rows = await db.query<TokenRow>(
    `SELECT t.*, u.role, u.removed_at AS user_removed_at
     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?`,
    [id],
  );
  const row = rows[0];
  if (!row) return { ok: false, reason: 'unknown' };
  const expected = Buffer.from(row.secret_hash, 'hex');
  const actual = Buffer.from(sha256Hex(secret), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    return { ok: false, reason: 'unknown' };
  }
  // Removal also revokes every token; the refusal names the removal, the cause.
  if (row.user_removed_at !== null) return { ok: false, reason: 'removed', row };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked', row };
  if (row.expires_at <= Date.now()) return { ok: false, reason: 'expired', row };
  const parentId = typeof row.parent_id === 'string' ? row.parent_id : null;
  const lineage = await lineageRefusal(db, parentId);
  if (lineage) return { ok: false, reason: lineage, row };
  return { ok: true, row, scopes: parseScopes(row.scopes) };
}

function parseScopes(text: string): Scope[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new HangarError('internal', 'token scopes are corrupt');
  return parsed.filter((scope): scope is Scope => knownScopes.includes(scope as Scope));
}

/** How stale `last_used_at` may get before a request writes it again. */
export const lastUsedResolutionMs = 60_000;

/**
 * Notes that the token authenticated a request, at most once per `lastUsedResolutionMs`, so a
 * busy token does not cost a write on every request.
 */
export async function touchApiToken(db: Queryable, row: TokenRow, now = Date.now()) {
  if (row.last_used_at !== null && now - row.last_used_at < lastUsedResolutionMs) return;
  await db.execute('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, row.id]);
}

/** The public view of a token row: never its hash. */
export function toApiToken(row: StoredToken): ApiToken {
  const token: ApiToken = {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    scopes: parseScopes(row.scopes),
    expiresAt: new Date(row.expires_at).toISOString(),
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.kind === 'session' || row.kind === 'token') token.kind = row.kind;
  if (row.revoked_at !== null) token.revokedAt = new Date(row.revoked_at).toISOString();
  if (row.last_used_at !== null) token.lastUsedAt = new Date(row.last_used_at).toISOString();
  return token;
}

const publicColumns =
  'id, user_id, org_id, scopes, expires_at, revoked_at, last_used_at, created_at, kind';

/** The caller's tokens, revoked and expired ones included; an admin may ask for a member's. */
export async function listApiTokens(
  context: Context,
  principal: UserPrincipal,
  userId: string | undefined,
): Promise<ApiToken[]> {
  const owner = userId ?? principal.userId;
  if (owner !== principal.userId && !isAdmin(principal)) {
    throw new HangarError('forbidden', "only an owner or admin may list another member's tokens");
  }
  const rows = await context.db.query<StoredToken>(
    `SELECT ${publicColumns} FROM api_tokens WHERE org_id = ? AND user_id = ?
     ORDER BY created_at, id`,
    [principal.orgId, owner],
  );
  return rows.map(toApiToken);
}

/**
 * Revokes a token and every token made with it, their children too, in one transaction: the
 * caller's own (the one in use included), or any of the organization's for an owner or admin. A
 * token the caller may not touch is `not_found`, whether or not it exists. Each token revoked
 * gets its own `token.revoke` record; a descendant's names the token whose revoke reached it.
 */
export async function revokeApiToken(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<ApiToken> {
  return context.db.transaction(async (tx) => {
    const rows = await tx.query<StoredToken>(
      `SELECT ${publicColumns} FROM api_tokens WHERE id = ? AND org_id = ? ${context.db.forUpdate}`,
      [id, principal.orgId],
    );
    const row = rows[0];
    if (!row || (row.user_id !== principal.userId && !isAdmin(principal))) {
      throw new HangarError('not_found', `API token ${id} does not exist or is not yours`);
    }
    if (row.revoked_at !== null) {
      throw new HangarError(
        'conflict',
        `API token ${id} was already revoked at ${new Date(row.revoked_at).toISOString()}`,
      );
    }
    const now = Date.now();
    const descendants = await activeDescendants(tx, context.db.forUpdate, id);
    const revoked: { id: string; user_id: string }[] = [row, ...descendants];
    for (const token of revoked) {
      await tx.execute('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [now, token.id]);
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'token.revoke',
        target: { kind: 'token', id: token.id },
        outcome: 'success',
        ...meta,
        details: {
          tokenOwner: token.user_id,
          ownToken: token.id === principal.tokenId,
          ...(token.id === id ? { descendants: descendants.length } : { revokedWith: id }),
        },
      });
    }
    return toApiToken({ ...row, revoked_at: now });
  });
}

/**
 * Revokes every unrevoked token and session of a user, in the caller's transaction; returns how
 * many. For a member's removal, which audits it as one `member.remove`.
 */
export async function revokeAllTokensOf(tx: Queryable, userId: string, now: number) {
  const rows = await tx.query<{ id: string }>(
    'SELECT id FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL',
    [userId],
  );
  await tx.execute(
    'UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL',
    [now, userId],
  );
  return rows.length;
}
