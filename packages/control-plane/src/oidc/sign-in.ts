import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { scopes, sha256Hex, type SessionTokenResponse } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { systemAuditOrg } from '../http/authenticate.js';
import { issueApiToken } from '../services/api-tokens.js';
import type { Queryable } from '../storage/database.js';
import { notConfiguredMessage, oidcConfigOf, type OrgOidcConfig } from './config-store.js';
import { providerMetadata, type ProviderMetadata } from './discovery.js';
import type { VerifiedIdToken } from './id-token.js';
import { SignInRefused, type SignInRefusalReason } from './refusal.js';
import { acceptIdentity } from './users.js';

export type SignInFlow = 'browser' | 'device' | 'token-exchange';

/** The longest session a traded ID token gives: automation asks again, people sign in. */
export const exchangeSessionTtlS = 3600;

/** An organization that can sign people in: its provider settings and discovery document. */
export interface SignInTarget {
  orgId: string;
  config: OrgOidcConfig;
  metadata: ProviderMetadata;
}

/** A random secret for a URL or a body: 32 bytes, base64url. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The PKCE S256 challenge of a verifier (RFC 7636 section 4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** Whether `secret` hashes to `hash`, compared in constant time. */
export function matchesHash(secret: string, hash: string | null): boolean {
  if (hash === null) return false;
  const expected = Buffer.from(hash, 'hex');
  const actual = Buffer.from(sha256Hex(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** What the sealed part of a sign-in row is sealed for: that row, so it cannot be moved. */
export function loginAssociatedData(loginId: string): string {
  return `hangar oidc login ${loginId}`;
}

/**
 * The organization named `org` (or, when no name is given, the only one with a provider) and
 * its provider. An unknown organization and one without a provider get the same refusal, so the
 * public sign-in routes do not tell which names exist.
 */
export async function signInTarget(
  context: Context,
  org: string | undefined,
): Promise<SignInTarget> {
  const rows =
    org === undefined
      ? await context.db.query<{ id: string }>('SELECT org_id AS id FROM oidc_configs LIMIT 2')
      : await context.db.query<{ id: string }>('SELECT id FROM orgs WHERE name = ?', [org]);
  if (org === undefined && rows.length > 1) {
    throw new SignInRefused(
      'not configured',
      'several organizations sign in with OpenID Connect here: name yours with --org',
    );
  }
  const orgId = rows[0]?.id;
  const config = orgId ? await oidcConfigOf(context.db, context.dataKey, orgId) : undefined;
  if (!orgId || !config || config.clientSecret === undefined) {
    // The same words whether or not the name exists: they tell no one which names do.
    const message =
      org === undefined
        ? `no organization signs in with OpenID Connect here: ${notConfiguredMessage}`
        : `no organization named ${org} has an OpenID provider; \`hangar whoami\` shows your ` +
          "organization's name";
    throw new SignInRefused('not configured', message);
  }
  try {
    const rules = { allowHttpLoopback: context.config.oidcAllowHttpLoopbackIssuers };
    return { orgId, config, metadata: await providerMetadata(config.issuer, rules) };
  } catch (error) {
    throw new SignInRefused(
      'provider error',
      `the organization's OpenID provider ${config.issuer} could not be used; try again later`,
      { cause: error },
    );
  }
}

/** `signInTarget` for a sign-in already under way, which knows its organization by id. */
export async function signInTargetOf(context: Context, orgId: string): Promise<SignInTarget> {
  const rows = await context.db.query<{ name: string }>('SELECT name FROM orgs WHERE id = ?', [
    orgId,
  ]);
  const name = rows[0]?.name;
  if (name === undefined) throw new SignInRefused('not configured', notConfiguredMessage);
  return signInTarget(context, name);
}

/**
 * Records a refused sign-in in the organization's chain (the system chain when the
 * organization is not known), in its own transaction. Never holds a token or a code.
 */
export async function auditSignInRefusal(
  context: Context,
  refusal: {
    orgId: string | undefined;
    flow: SignInFlow;
    reason: SignInRefusalReason;
    issuer?: string;
    userId?: string;
    loginId?: string;
    meta: RequestMeta;
  },
): Promise<void> {
  const orgId = refusal.orgId ?? systemAuditOrg;
  await context.audit.record({
    orgId,
    actor: refusal.userId
      ? { kind: 'user', id: refusal.userId }
      : { kind: 'system', id: 'anonymous' },
    action: 'auth.login',
    target: refusal.loginId ? { kind: 'login', id: refusal.loginId } : { kind: 'org', id: orgId },
    outcome: 'denied',
    ...refusal.meta,
    details: { flow: refusal.flow, reason: refusal.reason, issuer: refusal.issuer },
  });
}

/**
 * Issues a session token (every scope; the user's role still limits it) and records
 * `auth.login`, in the caller's transaction. It lasts `sessionTtlS`, at most
 * `exchangeSessionTtlS` for token exchange.
 */
export async function issueSession(
  tx: Queryable,
  context: Context,
  session: {
    orgId: string;
    userId: string;
    flow: SignInFlow;
    issuer: string;
    created: boolean;
    loginId?: string;
    /** Where a browser sign-in's hand-off code was sent: the CLI's listener or the dashboard. */
    handoff?: string;
    meta: RequestMeta;
  },
): Promise<SessionTokenResponse> {
  const ttlS =
    session.flow === 'token-exchange'
      ? Math.min(context.config.sessionTtlS, exchangeSessionTtlS)
      : context.config.sessionTtlS;
  const issued = await issueApiToken(tx, {
    userId: session.userId,
    orgId: session.orgId,
    scopes,
    expiresInS: ttlS,
    kind: 'session',
  });
  await context.audit.append(tx, {
    orgId: session.orgId,
    actor: { kind: 'user', id: session.userId },
    action: 'auth.login',
    target: { kind: 'token', id: issued.id },
    outcome: 'success',
    ...session.meta,
    details: {
      flow: session.flow,
      issuer: session.issuer,
      userCreated: session.created,
      loginId: session.loginId,
      handoff: session.handoff,
      expiresInS: ttlS,
    },
  });
  return {
    token: issued.token,
    tokenId: issued.id,
    expiresAt: new Date(issued.expiresAt).toISOString(),
    userId: session.userId,
    orgId: session.orgId,
  };
}

/**
 * The end of every flow: the identity checked against the organization's rules, the user found
 * or made, a session issued, all in one transaction. `claim` runs first in it, to make the
 * sign-in row single use; it throws when the row was used meanwhile.
 */
export async function signIn(
  context: Context,
  target: SignInTarget,
  identity: VerifiedIdToken,
  options: {
    flow: SignInFlow;
    loginId?: string;
    meta: RequestMeta;
    claim?: (tx: Queryable, userId: string) => Promise<void>;
  },
): Promise<SessionTokenResponse> {
  return context.db.transaction(async (tx) => {
    const user = await acceptIdentity(tx, target, identity);
    if (options.claim) await options.claim(tx, user.userId);
    return issueSession(tx, context, {
      orgId: target.orgId,
      userId: user.userId,
      flow: options.flow,
      issuer: target.config.issuer,
      created: user.created,
      ...(options.loginId ? { loginId: options.loginId } : {}),
      meta: options.meta,
    });
  });
}
