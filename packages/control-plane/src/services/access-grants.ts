import {
  HangarError,
  newId,
  signAccessToken,
  type AccessClaims,
  type AccessOperation,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import { loadEnvironmentFor } from './environment-access.js';
import { runnerById, runnerSsh } from './runners.js';

const scopeFor: Record<AccessOperation, 'environments:exec' | 'environments:read'> = {
  exec: 'environments:exec',
  'files:read': 'environments:read',
  'files:write': 'environments:exec',
  logs: 'environments:read',
  terminal: 'environments:exec',
  ssh: 'environments:exec',
  'ports:read': 'environments:read',
  'ports:connect': 'environments:exec',
};

/**
 * Signs a short-lived grant for the environment's own runner, naming the operations allowed.
 * Only the owner of the environment gets one, and the grant is audited before it is returned.
 */
export async function createAccessGrant(
  context: Context,
  principal: UserPrincipal,
  environmentId: string,
  operations: AccessOperation[],
  meta: RequestMeta,
) {
  const missing = operations.filter((op) => !principal.scopes.includes(scopeFor[op]));
  if (missing.length > 0) {
    const needed = [...new Set(missing.map((op) => scopeFor[op]))].join(', ');
    throw new HangarError(
      'forbidden',
      `the API token lacks the scope ${needed} for ${missing.join(', ')}`,
    );
  }
  const row = await loadEnvironmentFor(context.db, principal, environmentId, 'owner');
  if (row.phase === 'deleted' || row.desired_phase === 'deleted') {
    throw new HangarError('not_found', `environment ${environmentId} was deleted`);
  }
  const runner = await runnerById(context.db, row.runner_id);
  if (!runner?.gateway_url) {
    throw new HangarError(
      'runner_unavailable',
      `runner ${row.runner_id} has not reported a gateway address yet; start it`,
    );
  }
  const nowS = Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    iss: 'hangar',
    aud: runner.id,
    org: principal.orgId,
    env: row.id,
    act: actorOf(principal),
    ops: operations,
    iat: nowS,
    exp: nowS + context.config.accessTokenTtlS,
    jti: newId('grt'),
  };
  await context.audit.record({
    orgId: principal.orgId,
    actor: actorOf(principal),
    action: 'environment.access',
    target: { kind: 'environment', id: row.id },
    outcome: 'success',
    ...meta,
    details: { grant: claims.jti, operations: operations.join(' '), runnerId: runner.id },
  });
  const ssh = runnerSsh(runner);
  return {
    token: signAccessToken(claims, context.signingKey.privateKey),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    gatewayUrl: runner.gateway_url,
    runnerId: runner.id,
    environmentId: row.id,
    ...(ssh ? { ssh: { ...ssh, username: row.id } } : {}),
  };
}
