import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import { activeDescendants } from '../services/token-lineage.js';

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
    const children = (await activeDescendants(tx, context.db.forUpdate, principal.tokenId)).map(
      (row) => row.id,
    );
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
