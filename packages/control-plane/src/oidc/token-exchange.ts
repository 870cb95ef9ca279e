import { sha256Hex, type SessionTokenResponse } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import type { Queryable } from '../storage/database.js';
import { clockSkewS, verifyIdToken, type VerifiedIdToken } from './id-token.js';
import { SignInRefused } from './refusal.js';
import { auditSignInRefusal, signIn, signInTarget, type SignInTarget } from './sign-in.js';

/**
 * What makes an ID token the same one again: its issuer and `jti`, or, without a `jti`, the
 * header and payload it signs (the signature is left out: some signatures can be rewritten
 * without the key, the signed bytes cannot).
 */
export function idTokenReplayKey(idToken: string, identity: VerifiedIdToken): string {
  const { iss, jti } = identity.claims;
  if (typeof jti === 'string' && jti.length > 0) return sha256Hex(`jti\n${iss ?? ''}\n${jti}`);
  return sha256Hex(`signed\n${idToken.split('.').slice(0, 2).join('.')}`);
}

/**
 * Notes the ID token as spent, in the sign-in transaction, until it expires; refuses it when it
 * was spent already. Spent tokens past their expiry are forgotten on the way.
 */
async function spendIdToken(
  tx: Queryable,
  target: SignInTarget,
  idToken: string,
  identity: VerifiedIdToken,
): Promise<void> {
  const now = Date.now();
  await tx.execute('DELETE FROM oidc_used_id_tokens WHERE expires_at < ?', [now]);
  const exp = typeof identity.claims.exp === 'number' ? identity.claims.exp * 1000 : now;
  const inserted = await tx.execute(
    `INSERT INTO oidc_used_id_tokens (hash, org_id, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (hash) DO NOTHING`,
    [idTokenReplayKey(idToken, identity), target.orgId, exp + clockSkewS * 1000],
  );
  if (inserted === 0) {
    throw new SignInRefused(
      'token replayed',
      'this ID token was already traded for a session; each ID token is accepted once, so ' +
        'ask the provider for a new one',
    );
  }
}

/**
 * For automation that already holds an ID token from the organization's provider (a CI job's
 * identity), when the organization turned token exchange on: the token must verify against
 * that provider, for this client, unexpired, and not have been traded before; the same rules as
 * an interactive sign-in apply, and the session lasts at most an hour. A token from any other
 * issuer, or one used again, is refused and audited.
 */
export async function exchangeIdToken(
  context: Context,
  body: { org?: string | undefined; idToken: string },
  meta: RequestMeta,
): Promise<SessionTokenResponse> {
  let target: SignInTarget | undefined;
  try {
    target = await signInTarget(context, body.org);
    if (!target.config.tokenExchange) {
      throw new SignInRefused(
        'token exchange off',
        'this organization does not accept ID tokens for sessions; an owner or admin may turn ' +
          'it on with `hangar org oidc set --token-exchange on`',
      );
    }
    const identity = await verifyIdToken(body.idToken, {
      metadata: target.metadata,
      clientId: target.config.clientId,
    });
    const spending = target;
    return await signIn(context, target, identity, {
      flow: 'token-exchange',
      meta,
      claim: (tx) => spendIdToken(tx, spending, body.idToken, identity),
    });
  } catch (error) {
    if (error instanceof SignInRefused) {
      await auditSignInRefusal(context, {
        orgId: target?.orgId,
        flow: 'token-exchange',
        reason: error.reason,
        ...(target ? { issuer: target.config.issuer } : {}),
        ...(error.userId ? { userId: error.userId } : {}),
        meta,
      });
    }
    throw error;
  }
}
