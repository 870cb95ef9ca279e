import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';

/** How deep a chain of tokens made with tokens is followed. */
const maxDepth = 100;

/** The ids of the unrevoked tokens made with `id`, their children too. */
async function descendantsOf(tx: Queryable, id: string): Promise<string[]> {
  const seen = new Set([id]);
  const active: string[] = [];
  let level = [id];
  for (let depth = 0; level.length > 0 && depth < maxDepth; depth += 1) {
    const rows = await tx.query<{ id: string; revoked_at: number | null }>(
      `SELECT id, revoked_at FROM api_tokens WHERE parent_id IN (${level.map(() => '?').join(', ')})`,
      level,
    );
    const fresh = rows.filter((row) => !seen.has(row.id));
    for (const row of fresh) seen.add(row.id);
    active.push(...fresh.filter((row) => row.revoked_at === null).map((row) => row.id));
    level = fresh.map((row) => row.id);
  }
  return active;
}

/**
 * Ends the session (or token) the request came with, and every token made with it, recorded
 * as one `auth.logout`. The next request with any of them is refused.
 */
export async function logout(
  context: Context,
  principal: UserPrincipal,
  meta: RequestMeta,
): Promise<{ tokenId: string; revokedAt: string }> {
  return context.db.transaction(async (tx) => {
    const now = Date.now();
    const rows = await tx.query<{ kind: string }>(
      `SELECT kind FROM api_tokens WHERE id = ? ${context.db.forUpdate}`,
      [principal.tokenId],
    );
    const children = await descendantsOf(tx, principal.tokenId);
    for (const id of [principal.tokenId, ...children]) {
      await tx.execute('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [
        now,
        id,
      ]);
    }
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'auth.logout',
      target: { kind: 'token', id: principal.tokenId },
      outcome: 'success',
      ...meta,
      details: { kind: rows[0]?.kind ?? 'token', descendants: children.length },
    });
    return { tokenId: principal.tokenId, revokedAt: new Date(now).toISOString() };
  });
}
