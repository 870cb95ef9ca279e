import type { FastifyRequest } from 'fastify';
import {
  HangarError,
  verifyAccessToken,
  type AccessClaims,
  type AccessOperation,
} from '@hangar/api';
import type { GatewayDeps } from './deps.js';

/**
 * Every gateway route declares one of these in `config.grant`; a route without one is refused.
 * `share` is the port proxy's own: it checks each request against the port's share level.
 */
export type GatewayRule =
  | { kind: 'public'; why: string }
  | {
      kind: 'grant';
      operation: AccessOperation;
      /**
       * The environment the grant must be for, when the path names something else; undefined
       * when that thing is not on this runner (yet): a grant that is valid otherwise gets
       * `not_found` with `notHere`, so a client can tell "not here" from "not yours".
       */
      environmentOf?: (request: FastifyRequest) => string | undefined;
      notHere?: (request: FastifyRequest) => string;
    }
  | { kind: 'share'; why: string };

/** Browsers cannot set headers on a WebSocket, so they offer the grant as a subprotocol. */
export const grantProtocolPrefix = 'hangar-grant.';

/** The bearer token of a request, or the grant a WebSocket client offered as a subprotocol. */
function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer) return bearer;
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return undefined;
  const offered = request.headers['sec-websocket-protocol'];
  const protocols = typeof offered === 'string' ? offered.split(',') : [];
  const grant = protocols
    .map((item) => item.trim())
    .find((item) => item.startsWith(grantProtocolPrefix));
  return grant?.slice(grantProtocolPrefix.length) || undefined;
}

/** The subprotocol the gateway answers with: the first one offered that is not a grant. */
export function chooseProtocol(protocols: Set<string>): string | false {
  return [...protocols].find((item) => !item.startsWith(grantProtocolPrefix)) ?? false;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    grant?: GatewayRule;
  }
  interface FastifyRequest {
    claims?: AccessClaims;
  }
}

export const tokenProblems = {
  malformed: 'the access token is malformed',
  bad_signature: 'the access token was not signed by this runner control plane',
  expired: 'the access token has expired; ask the control plane for a new one',
  wrong_audience: 'the access token is for another runner',
} as const;

/**
 * Checks the short-lived grant the control plane signed: signature, expiry, audience (this
 * runner), the environment in the path and the operation. Verified offline with the control
 * plane's key, so it works while the control plane is unreachable. Refusals are audited.
 */
export function checkGrant(deps: GatewayDeps, rule: GatewayRule) {
  return async (request: FastifyRequest): Promise<void> => {
    if (rule.kind === 'public') return;
    if (rule.kind === 'share') {
      throw new HangarError('internal', 'a share rule belongs to the port proxy, not a route');
    }
    const named = rule.environmentOf
      ? rule.environmentOf(request)
      : ((request.params as { id?: string }).id ?? '');
    const environmentId = named ?? '';
    const token = tokenOf(request);
    const refuse = async (
      code: 'unauthenticated' | 'forbidden',
      message: string,
      actor?: AccessClaims['act'],
    ) => {
      await deps.audit
        .append({
          actor: actor ?? { kind: 'system', id: 'anonymous' },
          action: 'access.denied',
          target: { kind: 'environment', id: environmentId.slice(0, 200) },
          outcome: 'denied',
          requestId: request.id,
          sourceAddress: request.ip,
          details: { reason: message.slice(0, 200), operation: rule.operation },
        })
        .catch(() => undefined);
      return new HangarError(code, message);
    };
    if (!token) {
      throw await refuse(
        'unauthenticated',
        'send "Authorization: Bearer <access token>" from POST /v1/environments/{id}/access on the control plane',
      );
    }
    const identity = deps.identity();
    const check = verifyAccessToken(token, identity.controlPlanePublicKey, {
      audience: identity.runnerId,
    });
    if (!check.ok) throw await refuse('unauthenticated', tokenProblems[check.reason]);
    const { claims } = check;
    if (named === undefined) {
      throw new HangarError(
        'not_found',
        rule.notHere?.(request) ?? 'what the path names is not on this runner',
      );
    }
    if (claims.env !== environmentId) {
      throw await refuse('forbidden', 'the access token is for another environment', claims.act);
    }
    if (!claims.ops.includes(rule.operation)) {
      throw await refuse(
        'forbidden',
        `the access token does not allow ${rule.operation}`,
        claims.act,
      );
    }
    request.claims = claims;
  };
}

export function claimsOf(request: FastifyRequest): AccessClaims {
  if (!request.claims) throw new HangarError('internal', 'route has no verified grant');
  return request.claims;
}
