import { HangarError } from '@hangar/api';
import type { Queryable } from '../storage/database.js';

/**
 * Tokens made with tokens form trees: `parent_id` names the token in use when one was made.
 * Revoking a token ends its whole tree, and a token whose ancestor is revoked is refused even if
 * a revoke raced its creation. Chains stay short, so the walk up at each request is cheap.
 */

/** How many ancestors a token may have: a token made with a token made with ... a session. */
export const maxTokenDepth = 8;

export interface LineageRow {
  id: string;
  user_id: string;
  parent_id: string | null;
  revoked_at: number | null;
  expires_at: number;
  [key: string]: string | number | null;
}

const lineageColumns = 'id, user_id, parent_id, revoked_at, expires_at';

/**
 * The token `id` and the tokens above it, nearest first, at most `limit` of them. A chain longer
 * than `limit` shows as a last row whose `parent_id` is not null.
 */
async function chainFrom(db: Queryable, id: string, limit: number): Promise<LineageRow[]> {
  return db.query<LineageRow>(
    `WITH RECURSIVE chain (${lineageColumns}, depth) AS (
       SELECT ${lineageColumns}, 1 FROM api_tokens WHERE id = ?
       UNION ALL
       SELECT t.id, t.user_id, t.parent_id, t.revoked_at, t.expires_at, chain.depth + 1
       FROM api_tokens t JOIN chain ON t.id = chain.parent_id
       WHERE chain.depth < ?
     )
     SELECT ${lineageColumns} FROM chain ORDER BY depth`,
    [id, limit],
  );
}

/** Why a token with this parent may not be used, or null: an ancestor revoked, or too deep. */
export async function lineageRefusal(
  db: Queryable,
  parentId: string | null,
): Promise<'revoked' | 'too deep' | null> {
  if (parentId === null) return null;
  const ancestors = await chainFrom(db, parentId, maxTokenDepth);
  if (ancestors.some((row) => row.revoked_at !== null)) return 'revoked';
  // A vanished ancestor cannot vouch for its children.
  if (ancestors.length === 0) return 'revoked';
  if (ancestors.length === maxTokenDepth && ancestors.at(-1)?.parent_id !== null) {
    return 'too deep';
  }
  return null;
}

/**
 * Locks the token that makes a new one, for the rest of the caller's transaction, and refuses
 * when it or an ancestor is revoked, it has expired, or the new token would be deeper than
 * `maxTokenDepth`. A revoke of the parent then waits for the new token, and finds it.
 */
export async function lockParentToken(
  tx: Queryable,
  forUpdate: string,
  parentId: string,
  now = Date.now(),
): Promise<void> {
  const rows = await tx.query<LineageRow>(
    `SELECT ${lineageColumns} FROM api_tokens WHERE id = ? ${forUpdate}`,
    [parentId],
  );
  const parent = rows[0];
  if (!parent || parent.revoked_at !== null || parent.expires_at <= now) {
    throw new HangarError(
      'unauthenticated',
      'the API token in use was revoked or expired meanwhile; sign in again or use another token',
    );
  }
  const chain = await chainFrom(tx, parentId, maxTokenDepth + 1);
  if (chain.some((row) => row.revoked_at !== null)) {
    throw new HangarError(
      'unauthenticated',
      'a token the API token in use was made with is revoked; sign in again or use another token',
    );
  }
  if (chain.length > maxTokenDepth) {
    throw new HangarError(
      'forbidden',
      `a token may be made through at most ${maxTokenDepth} tokens, and the one in use was ` +
        `made through ${maxTokenDepth} already; make the new token with your session or a ` +
        'token made more directly from it',
    );
  }
}

/**
 * Every unrevoked token below `id`, parents before children, each row locked. Revoked tokens are
 * walked through, so a child outlives nothing by its parent having been revoked earlier. The walk
 * has no depth limit (chains from before the limit may be long) and ends at tokens already seen.
 */
export async function activeDescendants(
  tx: Queryable,
  forUpdate: string,
  id: string,
): Promise<LineageRow[]> {
  const found: LineageRow[] = [];
  const seen = new Set([id]);
  let level = [id];
  while (level.length > 0) {
    const children: LineageRow[] = [];
    // Bounded batches keep the statement within every backend's parameter limit.
    for (let start = 0; start < level.length; start += 500) {
      const batch = level.slice(start, start + 500);
      children.push(
        ...(await tx.query<LineageRow>(
          `SELECT ${lineageColumns} FROM api_tokens
           WHERE parent_id IN (${batch.map(() => '?').join(', ')})
           ORDER BY created_at, id ${forUpdate}`,
          batch,
        )),
      );
    }
    const fresh = children.filter((child) => !seen.has(child.id));
    for (const child of fresh) seen.add(child.id);
    found.push(...fresh.filter((child) => child.revoked_at === null));
    level = fresh.map((child) => child.id);
  }
  return found;
}
