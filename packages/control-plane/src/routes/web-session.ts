import type { FastifyRequest } from 'fastify';
import {
  HangarError,
  LogoutResponse,
  WebSessionBody,
  WebSessionResponse,
  type Scope,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { allRoles, userRule } from '../http/access-rules.js';
import { bearerToken, principalOf } from '../http/authenticate.js';
import { roles, type Role } from '../http/principal.js';
import {
  checkOrigin,
  clearSessionCookie,
  csrfTokenFor,
  isSecure,
  plantedCookieExpiries,
  sessionCookieOf,
  sessionCookiesOf,
  setSessionCookie,
} from '../http/web-session.js';
import { completeBrowserLogin } from '../oidc/browser-flow.js';
import { logout } from '../oidc/logout.js';
import { checkApiToken, issueApiToken } from '../services/api-tokens.js';
import { lockParentToken } from '../services/token-lineage.js';
import { metaOf, routes } from './plugin.js';

interface Session {
  token: string;
  userId: string;
  orgId: string;
  role: Role;
  scopes: Scope[];
  expiresAt: number;
}

const refusedToken =
  'the token was refused: it is not valid, revoked or expired; check it and try again';

/**
 * A session for the dashboard made from an API token someone pasted into it: a child of that
 * token (revoking the token ends it), with the same scopes, lasting the session time or what is
 * left of the token, whichever ends first. Audited `auth.login` with flow `dashboard-token`.
 */
async function sessionFromToken(
  context: Context,
  token: string,
  meta: RequestMeta,
): Promise<Session> {
  const check = await checkApiToken(context.db, token);
  if (!check.ok) {
    await context.audit.record({
      orgId: check.row?.org_id ?? 'system',
      actor: check.row
        ? { kind: 'user', id: check.row.user_id }
        : { kind: 'system', id: 'anonymous' },
      action: 'auth.login',
      target: { kind: 'route', id: 'POST /v1/auth/web-session' },
      outcome: 'denied',
      ...meta,
      details: { flow: 'dashboard-token', reason: `token ${check.reason}` },
    });
    throw new HangarError('unauthenticated', refusedToken);
  }
  const { row, scopes } = check;
  const expiresInS = Math.min(
    context.config.sessionTtlS,
    Math.floor((row.expires_at - Date.now()) / 1000),
  );
  if (expiresInS < 60) throw new HangarError('unauthenticated', refusedToken);
  const issued = await context.db.transaction(async (tx) => {
    await lockParentToken(tx, context.db.forUpdate, row.id);
    const session = await issueApiToken(tx, {
      userId: row.user_id,
      orgId: row.org_id,
      scopes,
      expiresInS,
      parentId: row.id,
      kind: 'session',
    });
    await context.audit.append(tx, {
      orgId: row.org_id,
      actor: { kind: 'user', id: row.user_id },
      action: 'auth.login',
      target: { kind: 'token', id: session.id },
      outcome: 'success',
      ...meta,
      details: { flow: 'dashboard-token', parent: row.id, expiresInS },
    });
    return session;
  });
  return {
    token: issued.token,
    userId: row.user_id,
    orgId: row.org_id,
    role: roleOf(row.role),
    scopes,
    expiresAt: issued.expiresAt,
  };
}

function roleOf(value: string): Role {
  return roles.includes(value as Role) ? (value as Role) : 'member';
}

/** The dashboard's side of a browser sign-in it started: the hand-off code for a session. */
async function sessionFromLogin(
  context: Context,
  body: { loginId: string; code: string; codeVerifier: string },
  meta: RequestMeta,
): Promise<Session> {
  const session = await completeBrowserLogin(context, body, meta);
  const check = await checkApiToken(context.db, session.token);
  if (!check.ok) throw new HangarError('unauthenticated', 'the new session was ended at once');
  return {
    token: session.token,
    userId: session.userId,
    orgId: session.orgId,
    role: roleOf(check.row.role),
    scopes: check.scopes,
    expiresAt: Date.parse(session.expiresAt),
  };
}

function answer(session: Omit<Session, 'expiresAt'> & { expiresAt: number }) {
  return {
    csrfToken: csrfTokenFor(session.token),
    userId: session.userId,
    orgId: session.orgId,
    role: session.role,
    scopes: session.scopes,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

function secureOf(context: Context, request: FastifyRequest): boolean {
  return isSecure(request, context.config.publicUrl);
}

export function webSessionRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/auth/web-session',
      {
        config: {
          access: { kind: 'public', why: 'signing in to the dashboard is how it gets a session' },
        },
        schema: {
          summary: 'Sign the dashboard in: a session in an HttpOnly cookie, and its CSRF token',
          description:
            'With {token}: a session made from that API token (its child; same scopes). With ' +
            '{loginId, code, codeVerifier}: the end of a browser sign-in the dashboard started ' +
            'with POST /v1/auth/login. The session token is only ever in the cookie.',
          security: [],
          body: WebSessionBody,
          response: { 200: WebSessionResponse },
        },
      },
      async (request, reply) => {
        checkOrigin(request, context.config.publicUrl);
        const body = request.body;
        const session =
          'token' in body
            ? await sessionFromToken(context, body.token, metaOf(request))
            : await sessionFromLogin(context, body, metaOf(request));
        // Sessions the browser sends here besides the one this sign-in replaces were planted.
        if (sessionCookiesOf(request).length > 0) {
          reply.header('set-cookie', plantedCookieExpiries(request, secureOf(context, request)));
        }
        setSessionCookie(reply, session.token, {
          secure: secureOf(context, request),
          maxAgeS: Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000)),
        });
        return answer(session);
      },
    );

    app.get(
      '/v1/auth/web-session',
      {
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: "The dashboard's session: who is signed in, and the CSRF token to send",
          response: { 200: WebSessionResponse },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        // The token the request was signed in with: the CSRF token is only of use with a cookie.
        const token = bearerToken(request) ?? sessionCookieOf(request) ?? '';
        return answer({ ...principal, token, expiresAt: principal.tokenExpiresAt });
      },
    );

    app.delete(
      '/v1/auth/web-session',
      {
        // Ending a session only takes access away, so any session may end itself.
        config: { access: userRule('any', allRoles) },
        schema: {
          summary: "Sign the dashboard out: ends the cookie's session and clears the cookie",
          response: { 200: LogoutResponse },
        },
      },
      async (request, reply) => {
        const ended = await logout(context, principalOf(request), metaOf(request));
        clearSessionCookie(reply, secureOf(context, request));
        return ended;
      },
    );
  });
}
