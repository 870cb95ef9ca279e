import type { SessionTokenResponse } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { verifyIdToken } from './id-token.js';
import { SignInRefused } from './refusal.js';
import { auditSignInRefusal, signIn, signInTarget, type SignInTarget } from './sign-in.js';

/**
 * For automation that already holds an ID token from the organization's provider (a CI job's
 * identity): the token must verify against that provider, for this client, unexpired; the same
 * rules as an interactive sign-in apply. A token from any other issuer is refused and audited.
 */
export async function exchangeIdToken(
  context: Context,
  body: { org?: string | undefined; idToken: string },
  meta: RequestMeta,
): Promise<SessionTokenResponse> {
  let target: SignInTarget | undefined;
  try {
    target = await signInTarget(context, body.org);
    const identity = await verifyIdToken(body.idToken, {
      metadata: target.metadata,
      clientId: target.config.clientId,
    });
    return await signIn(context, target, identity, { flow: 'token-exchange', meta });
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
