import { newId, scopes, type Scope } from '@hangar/api';
import type { Context } from '../context.js';
import { issueApiToken } from './api-tokens.js';

const ownerKey = 'local:owner';

export interface BootstrapResult {
  orgId: string;
  userId: string;
  token: string;
  tokenExpiresAt: number;
  created: boolean;
}

/**
 * Makes sure the embedded setup has its organization and first owner, and issues the owner a new
 * token. Running it again keeps the organization and the owner: only a token is added.
 */
export async function bootstrapOwner(
  context: Context,
  options: { orgName: string; tokenTtlS: number; scopes?: readonly Scope[] },
): Promise<BootstrapResult> {
  const result = await bootstrap(context, { ...options, onlyIfAbsent: false });
  if (!result) throw new Error('bootstrap issued no token');
  return result;
}

/**
 * Creates the organization and its first owner when there is none yet, and returns the owner's
 * first token; returns null, issuing nothing, when the owner already exists. For a control plane
 * started on its own (`hangar control --init-owner FILE`).
 */
export async function initOwnerIfAbsent(
  context: Context,
  options: { orgName: string; tokenTtlS: number },
): Promise<BootstrapResult | null> {
  return bootstrap(context, { ...options, onlyIfAbsent: true });
}

async function bootstrap(
  context: Context,
  options: { orgName: string; tokenTtlS: number; scopes?: readonly Scope[]; onlyIfAbsent: boolean },
): Promise<BootstrapResult | null> {
  return context.db.transaction(async (tx) => {
    const existing = await tx.query<{ id: string; org_id: string }>(
      'SELECT id, org_id FROM users WHERE external_key = ?',
      [ownerKey],
    );
    let userId = existing[0]?.id;
    let orgId = existing[0]?.org_id;
    const created = userId === undefined;
    if (!created && options.onlyIfAbsent) return null;
    const meta = { requestId: 'bootstrap', sourceAddress: 'local' };
    if (!userId || !orgId) {
      orgId = newId('org');
      userId = newId('usr');
      const now = Date.now();
      await tx.execute('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)', [
        orgId,
        options.orgName,
        now,
      ]);
      await tx.execute(
        'INSERT INTO users (id, org_id, external_key, role, created_at) VALUES (?, ?, ?, ?, ?)',
        [userId, orgId, ownerKey, 'owner', now],
      );
      await context.audit.append(tx, {
        orgId,
        actor: { kind: 'system', id: 'bootstrap' },
        action: 'org.bootstrap',
        target: { kind: 'org', id: orgId },
        outcome: 'success',
        ...meta,
        details: { ownerId: userId },
      });
    }
    const grant = options.scopes ?? scopes;
    const token = await issueApiToken(tx, {
      userId,
      orgId,
      scopes: grant,
      expiresInS: options.tokenTtlS,
    });
    await context.audit.append(tx, {
      orgId,
      actor: { kind: 'system', id: 'bootstrap' },
      action: 'token.create',
      target: { kind: 'token', id: token.id },
      outcome: 'success',
      ...meta,
      details: { userId, scopes: grant.join(' '), expiresInS: options.tokenTtlS },
    });
    return { orgId, userId, token: token.token, tokenExpiresAt: token.expiresAt, created };
  });
}
