import type { FastifyReply, FastifyRequest } from 'fastify';
import { HangarError, type AuditAction } from '@hangar/api';
import type { Context } from '../context.js';
import { checkApiToken, touchApiToken, type TokenRefusal } from '../services/api-tokens.js';
import type { AccessRule } from './access-rules.js';
import { roles, type Role, type UserPrincipal } from './principal.js';
import {
  checkCookieRequest,
  isSecure,
  plantedCookieExpiries,
  sessionCookiesOf,
} from './web-session.js';

/** The chain that holds failures which cannot be tied to an organization. */
export const systemAuditOrg = 'system';

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

async function auditRefusal(
  context: Context,
  request: FastifyRequest,
  refusal: { orgId: string; actorId: string; action: AuditAction; reason: string },
): Promise<void> {
  await context.audit.record({
    orgId: refusal.orgId,
    actor: { kind: refusal.actorId === 'anonymous' ? 'system' : 'user', id: refusal.actorId },
    action: refusal.action,
    target: { kind: 'route', id: `${request.method} ${request.routeOptions.url ?? request.url}` },
    outcome: 'denied',
    requestId: request.id,
    sourceAddress: request.ip,
    details: { reason: refusal.reason },
  });
}

/**
 * Checks the caller against the route's declared rule and sets `request.principal`. Every
 * refusal is audited before the error is returned; if the refusal cannot be audited the request
 * is still refused.
 */
export function authenticateFor(context: Context, rule: AccessRule) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (rule.kind !== 'user') return;
    const token = bearerToken(request) ?? (await cookieToken(context, request, reply));
    if (!token) {
      await auditRefusal(context, request, {
        orgId: systemAuditOrg,
        actorId: 'anonymous',
        action: 'auth.failure',
        reason: 'no bearer token',
      }).catch(() => undefined);
      throw new HangarError(
        'unauthenticated',
        'this request needs an API token: send "Authorization: Bearer <token>"; ' +
          '`hangar up` writes one to the credentials file',
      );
    }
    const check = await checkApiToken(context.db, token);
    if (!check.ok) {
      const orgId = check.row?.org_id ?? systemAuditOrg;
      const actorId = check.row?.user_id ?? 'anonymous';
      await auditRefusal(context, request, {
        orgId,
        actorId,
        action: 'auth.failure',
        reason: check.reason === 'removed' ? 'user removed' : `token ${check.reason}`,
      }).catch(() => undefined);
      const kind = check.row && (check.row.kind === 'session' ? 'session' : 'token');
      throw tokenRefusal(check.reason, kind);
    }
    await touchApiToken(context.db, check.row);
    const role = check.row.role as Role;
    const principal: UserPrincipal = {
      kind: 'user',
      userId: check.row.user_id,
      orgId: check.row.org_id,
      role: roles.includes(role) ? role : 'member',
      scopes: check.scopes,
      tokenId: check.row.id,
      tokenExpiresAt: check.row.expires_at,
    };
    const denial = denialOf(rule, principal);
    if (denial) {
      await auditRefusal(context, request, {
        orgId: principal.orgId,
        actorId: principal.userId,
        action: 'access.denied',
        reason: denial,
      }).catch(() => undefined);
      throw new HangarError('forbidden', denial);
    }
    request.principal = principal;
  };
}

/**
 * The refusal of a known token, saying how to get another: a session (from `hangar login`) is
 * signed in again, an API token is made again. `details.tokenKind` tells clients which it was;
 * a token not found has no kind.
 */
function tokenRefusal(reason: TokenRefusal, kind: 'token' | 'session' | undefined): HangarError {
  const details = kind ? { tokenKind: kind } : {};
  if (kind === 'session' && reason !== 'removed') {
    const signIn = 'sign in again with `hangar login`';
    if (reason === 'expired') {
      return new HangarError('token_expired', `the session has expired; ${signIn}`, { details });
    }
    const why = reason === 'revoked' ? 'has ended (signed out or revoked)' : 'is not valid';
    return new HangarError('unauthenticated', `the session ${why}; ${signIn}`, { details });
  }
  if (reason === 'expired') {
    return new HangarError('token_expired', 'the API token has expired; create a new one', {
      details,
    });
  }
  const what = kind === 'session' ? 'session' : 'API token';
  return new HangarError('unauthenticated', `the ${what} is ${tokenWord(reason)}`, { details });
}

function tokenWord(reason: Exclude<TokenRefusal, 'expired'>): string {
  if (reason === 'revoked') return 'revoked, or made with one that is; create a new one';
  if (reason === 'too deep') {
    return 'made through more tokens than allowed; create a new one with your session';
  }
  if (reason === 'removed') {
    return 'of a user removed from the organization; an owner or admin may add them again';
  }
  return 'not valid; check that it was copied whole, or create a new one';
}

function denialOf(rule: AccessRule & { kind: 'user' }, principal: UserPrincipal): string | null {
  if (rule.scope !== 'any' && !principal.scopes.includes(rule.scope)) {
    return `the API token lacks the scope ${rule.scope}; create a token that has it`;
  }
  if (!rule.roles.includes(principal.role)) {
    return `the role ${principal.role} may not do this; ask an organization admin`;
  }
  return null;
}

/**
 * The dashboard's session from its cookie, once the request is shown to come from the dashboard
 * (its Origin and, for a change, its CSRF token). A bearer token, when sent, wins over the cookie.
 */
async function cookieToken(
  context: Context,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<string | undefined> {
  const tokens = sessionCookiesOf(request);
  const [token] = tokens;
  if (token === undefined) return undefined;
  const refuse = async (error: unknown, reason: string, checked: string) => {
    const check = await checkApiToken(context.db, checked);
    await auditRefusal(context, request, {
      orgId: check.row?.org_id ?? systemAuditOrg,
      actorId: check.row?.user_id ?? 'anonymous',
      action: 'auth.failure',
      reason,
    }).catch(() => undefined);
    return error;
  };
  if (tokens.length > 1) {
    const secure = isSecure(request, context.config.publicUrl);
    reply.header('set-cookie', plantedCookieExpiries(request, secure));
    const error = new HangarError(
      'unauthenticated',
      'the request carried more than one session cookie, so a page on another port of this ' +
        'host planted one; it was cleared: sign in again, and serve shared ports under their ' +
        'own host name (the runner setting portsDomain)',
    );
    // The record names whoever the planted cookies belong to, for each that is a session.
    for (const each of tokens) await refuse(error, 'more than one session cookie', each);
    throw error;
  }
  try {
    checkCookieRequest(request, token, context.config.publicUrl);
  } catch (error) {
    throw await refuse(error, 'session cookie without the dashboard origin or CSRF token', token);
  }
  return token;
}

/** The principal of a route whose rule is `user`; a programming error anywhere else. */
export function principalOf(request: FastifyRequest): UserPrincipal {
  if (!request.principal) throw new HangarError('internal', 'route has no authenticated principal');
  return request.principal;
}
