import { HangarError, newId, sha256Hex, type SessionTokenResponse } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import type { Queryable } from '../storage/database.js';
import { verifyIdToken } from './id-token.js';
import { exchangeCode, signInScope } from './provider-client.js';
import { SignInRefused } from './refusal.js';
import { acceptIdentity } from './users.js';
import {
  auditSignInRefusal,
  issueSession,
  loginAssociatedData,
  matchesHash,
  randomSecret,
  s256,
  signInTarget,
  signInTargetOf,
  type SignInTarget,
} from './sign-in.js';

/** How long a person has to finish at the provider. */
const loginTtlMs = 10 * 60_000;
/** How long the CLI has to pick up the hand-off code once the browser brought it back. */
const handoffTtlMs = 2 * 60_000;

/** What a browser sign-in keeps sealed in its row. */
interface BrowserSecrets {
  idpVerifier: string;
  nonce: string;
  clientRedirectUri: string;
  clientChallenge: string;
  callbackUrl: string;
  /** Set by the callback: whether the sign-in made the user. */
  userCreated?: boolean;
}

interface LoginRow {
  id: string;
  org_id: string;
  flow: string;
  state_hash: string | null;
  sealed: string;
  handoff_hash: string | null;
  user_id: string | null;
  outcome: string | null;
  expires_at: number;
  [key: string]: string | number | null;
}

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/**
 * The CLI's listener, http://127.0.0.1:<port>/callback, or this control plane's own dashboard
 * page `dashboardRedirect` exactly; nothing else. The path is fixed: other loopback servers a
 * member can put content on (a runner gateway's shared ports, at `/ports/...`) must never
 * receive another person's hand-off code.
 */
export function checkClientRedirect(value: string, dashboardRedirect?: string): string {
  if (dashboardRedirect !== undefined && value === dashboardRedirect) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('redirectUri', 'must be a URL such as http://127.0.0.1:53682/callback');
  }
  const loopback = url.protocol === 'http:' && url.hostname === '127.0.0.1';
  const exact = url.pathname === '/callback' && !url.search && !url.hash;
  if (!loopback || url.port === '' || url.username || url.password || !exact) {
    throw invalid(
      'redirectUri',
      'must be http://127.0.0.1:<port>/callback (the CLI listens there), or this control ' +
        "plane's dashboard at /sign-in/callback",
    );
  }
  return url.toString();
}

/**
 * Starts a browser sign-in: makes the state, the nonce and the control plane's own PKCE
 * verifier for the provider, keeps the state as a hash and the rest sealed, and returns the
 * provider's authorization URL. `callbackUrl` is this control plane's `/v1/auth/callback`.
 */
export async function startBrowserLogin(
  context: Context,
  body: { org?: string | undefined; redirectUri: string; codeChallenge: string },
  urls: { callbackUrl: string; dashboardRedirect: string },
  meta: RequestMeta,
): Promise<{ loginId: string; authorizationUrl: string; expiresAt: string }> {
  const { callbackUrl } = urls;
  const clientRedirectUri = checkClientRedirect(body.redirectUri, urls.dashboardRedirect);
  let target: SignInTarget;
  try {
    target = await signInTarget(context, body.org);
  } catch (error) {
    if (error instanceof SignInRefused) {
      await auditSignInRefusal(context, {
        orgId: undefined,
        flow: 'browser',
        reason: error.reason,
        meta,
      });
    }
    throw error;
  }
  const loginId = newId('lgn');
  const state = randomSecret();
  const secrets: BrowserSecrets = {
    idpVerifier: randomSecret(),
    nonce: randomSecret(),
    clientRedirectUri,
    clientChallenge: body.codeChallenge,
    callbackUrl,
  };
  const now = Date.now();
  const expiresAt = now + loginTtlMs;
  await context.db.execute(
    `INSERT INTO oidc_logins (id, org_id, flow, state_hash, sealed, expires_at, created_at)
     VALUES (?, ?, 'browser', ?, ?, ?, ?)`,
    [
      loginId,
      target.orgId,
      sha256Hex(state),
      context.dataKey.seal(JSON.stringify(secrets), loginAssociatedData(loginId)),
      expiresAt,
      now,
    ],
  );
  const url = new URL(target.metadata.authorizationEndpoint);
  const parameters = {
    response_type: 'code',
    client_id: target.config.clientId,
    redirect_uri: callbackUrl,
    scope: signInScope,
    state,
    nonce: secrets.nonce,
    code_challenge: s256(secrets.idpVerifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return {
    loginId,
    authorizationUrl: url.toString(),
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

/** Where the callback sends the browser: the CLI's listener, or a page of its own. */
export type CallbackOutcome =
  | { kind: 'redirect'; location: string }
  | { kind: 'page'; status: number; title: string; message: string };

async function markDenied(db: Queryable, loginId: string): Promise<void> {
  await db.execute(`UPDATE oidc_logins SET outcome = 'denied', handoff_hash = NULL WHERE id = ?`, [
    loginId,
  ]);
}

function openSecrets(context: Context, row: LoginRow): BrowserSecrets {
  return JSON.parse(
    context.dataKey.open(row.sealed, loginAssociatedData(row.id)),
  ) as BrowserSecrets;
}

/**
 * The provider sent the browser back. Checks the state, trades the code (client secret and PKCE
 * verifier), verifies the ID token and the organization's rules, finds or makes the user, then
 * sends the browser to the CLI with a one-time hand-off code. A refusal is audited; the browser
 * is sent to the CLI with the error when the sign-in is known, else shown a page.
 */
export async function handleCallback(
  context: Context,
  query: { code?: string; state?: string; error?: string },
  meta: RequestMeta,
): Promise<CallbackOutcome> {
  const rows = query.state
    ? await context.db.query<LoginRow>(
        `SELECT * FROM oidc_logins WHERE state_hash = ? AND flow = 'browser'`,
        [sha256Hex(query.state)],
      )
    : [];
  const row = rows[0];
  if (!row || row.outcome !== null || Number(row.expires_at) <= Date.now()) {
    const reason = !row ? 'unknown login' : row.outcome !== null ? 'login used' : 'login expired';
    await auditSignInRefusal(context, {
      orgId: row?.org_id,
      flow: 'browser',
      reason,
      ...(row ? { loginId: row.id } : {}),
      meta,
    });
    return {
      kind: 'page',
      status: 400,
      title: 'Sign-in failed',
      message:
        reason === 'login used'
          ? 'This sign-in link was already used.'
          : reason === 'login expired'
            ? 'This sign-in took too long and has expired.'
            : 'This sign-in is not known to Hangar.',
    };
  }
  const secrets = openSecrets(context, row);
  let target: SignInTarget | undefined;
  try {
    if (query.error !== undefined || !query.code) {
      throw new SignInRefused(
        'access denied',
        `the OpenID provider did not sign you in (${(query.error ?? 'no code').slice(0, 60)})`,
      );
    }
    target = await signInTargetOf(context, row.org_id);
    const answer = await exchangeCode({
      metadata: target.metadata,
      config: target.config,
      code: query.code,
      codeVerifier: secrets.idpVerifier,
      redirectUri: secrets.callbackUrl,
    });
    if (!answer.ok) {
      throw new SignInRefused(
        'provider error',
        `the OpenID provider refused the code (${answer.error})`,
      );
    }
    const identity = await verifyIdToken(answer.idToken, {
      metadata: target.metadata,
      clientId: target.config.clientId,
      nonce: secrets.nonce,
    });
    const handoff = randomSecret();
    const found = target;
    await context.db.transaction(async (tx) => {
      const user = await acceptIdentity(tx, found, identity);
      const sealed = context.dataKey.seal(
        JSON.stringify({ ...secrets, userCreated: user.created }),
        loginAssociatedData(row.id),
      );
      const changed = await tx.execute(
        `UPDATE oidc_logins SET outcome = 'authenticated', user_id = ?, handoff_hash = ?,
           sealed = ?, expires_at = ?
         WHERE id = ? AND outcome IS NULL`,
        [user.userId, sha256Hex(handoff), sealed, Date.now() + handoffTtlMs, row.id],
      );
      if (changed !== 1) throw new SignInRefused('login used', 'this sign-in was already used');
    });
    const location = new URL(secrets.clientRedirectUri);
    location.searchParams.set('code', handoff);
    return { kind: 'redirect', location: location.toString() };
  } catch (error) {
    if (!(error instanceof SignInRefused)) throw error;
    await markDenied(context.db, row.id);
    await auditSignInRefusal(context, {
      orgId: row.org_id,
      flow: 'browser',
      reason: error.reason,
      ...(target ? { issuer: target.config.issuer } : {}),
      ...(error.userId ? { userId: error.userId } : {}),
      loginId: row.id,
      meta,
    });
    const location = new URL(secrets.clientRedirectUri);
    location.searchParams.set('error', error.reason.replaceAll(' ', '_'));
    location.searchParams.set('error_description', error.message);
    return { kind: 'redirect', location: location.toString() };
  }
}

/**
 * The CLI brings the hand-off code and its PKCE verifier: checked against the challenge it
 * started with, once, and a session token issued. Any failure ends the sign-in for good.
 */
export async function completeBrowserLogin(
  context: Context,
  body: { loginId: string; code: string; codeVerifier: string },
  meta: RequestMeta,
): Promise<SessionTokenResponse> {
  const rows = await context.db.query<LoginRow>(
    `SELECT * FROM oidc_logins WHERE id = ? AND flow = 'browser'`,
    [body.loginId],
  );
  const row = rows[0];
  let issuer: string | undefined;
  try {
    if (!row || row.outcome !== 'authenticated' || !matchesHash(body.code, row.handoff_hash)) {
      throw new SignInRefused(
        row?.outcome === 'completed' ? 'login used' : 'unknown login',
        'the sign-in code is not valid (used, expired or never issued); run `hangar login` again',
      );
    }
    if (Number(row.expires_at) <= Date.now()) {
      throw new SignInRefused(
        'login expired',
        'the sign-in took too long; run `hangar login` again',
      );
    }
    const secrets = openSecrets(context, row);
    if (s256(body.codeVerifier) !== secrets.clientChallenge) {
      throw new SignInRefused(
        'pkce mismatch',
        'the code verifier does not match the challenge the sign-in started with',
      );
    }
    const target = await signInTargetOf(context, row.org_id);
    issuer = target.config.issuer;
    const userId = row.user_id ?? '';
    return await context.db.transaction(async (tx) => {
      const changed = await tx.execute(
        `UPDATE oidc_logins SET outcome = 'completed', handoff_hash = NULL
         WHERE id = ? AND outcome = 'authenticated'`,
        [row.id],
      );
      if (changed !== 1) throw new SignInRefused('login used', 'this sign-in was already used');
      const users = await tx.query<{ removed_at: number | null }>(
        'SELECT removed_at FROM users WHERE id = ?',
        [userId],
      );
      if (users[0]?.removed_at !== null) {
        throw new SignInRefused('user removed', 'you were removed from this organization');
      }
      return issueSession(tx, context, {
        orgId: row.org_id,
        userId,
        flow: 'browser',
        issuer: target.config.issuer,
        created: secrets.userCreated === true,
        loginId: row.id,
        handoff: secrets.clientRedirectUri,
        meta,
      });
    });
  } catch (error) {
    if (!(error instanceof SignInRefused)) throw error;
    if (row && row.outcome === 'authenticated') await markDenied(context.db, row.id);
    await auditSignInRefusal(context, {
      orgId: row?.org_id,
      flow: 'browser',
      reason: error.reason,
      ...(issuer ? { issuer } : {}),
      ...(row?.user_id ? { userId: row.user_id } : {}),
      ...(row ? { loginId: row.id } : {}),
      meta,
    });
    throw error;
  }
}
