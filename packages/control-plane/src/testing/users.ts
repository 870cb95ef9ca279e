import { newId, scopes as allScopes, type Scope } from '@hangar/api';
import type { Context } from '../context.js';
import type { Role } from '../http/principal.js';
import { issueApiToken } from '../services/api-tokens.js';

/**
 * Adds a user, in a new organization unless one is given, and returns a token for it. Test
 * support only: the product adds members with POST /v1/members and issues their tokens at
 * sign-in.
 */
export async function addUser(
  context: Context,
  options: { orgId?: string; role: Role; scopes?: readonly Scope[]; expiresInS?: number },
) {
  const orgId = options.orgId ?? newId('org');
  const userId = newId('usr');
  const now = Date.now();
  return context.db.transaction(async (tx) => {
    if (!options.orgId) {
      await tx.execute('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)', [
        orgId,
        `org-${orgId}`,
        now,
      ]);
    }
    await tx.execute(
      'INSERT INTO users (id, org_id, external_key, role, created_at) VALUES (?, ?, ?, ?, ?)',
      [userId, orgId, `test:${userId}`, options.role, now],
    );
    const token = await issueApiToken(tx, {
      userId,
      orgId,
      scopes: options.scopes ?? allScopes,
      expiresInS: options.expiresInS ?? 3600,
    });
    return { orgId, userId, token: token.token, tokenId: token.id };
  });
}
