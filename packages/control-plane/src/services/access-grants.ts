import {
  HangarError,
  auditLimits,
  newId,
  signAccessToken,
  storableAuditText,
  unstorableTextReason,
  type AccessClaims,
  type AccessOperation,
  type Actor,
} from '@hangar/api';
import type { AuditEntry } from '../audit/audit-entry.js';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import { loadEnvironmentFor } from './environment-access.js';
import type { EnvironmentRow } from './environment-rows.js';
import { policyOf } from './policy-store.js';
import { runnerById, runnerSsh, type RunnerRow } from './runners.js';

export interface GrantRequest {
  orgId: string;
  actor: Actor;
  /** The runner the grant is for: its audience. */
  runnerId: string;
  environmentId: string;
  operations: AccessOperation[];
  /** The one port a `ports:connect` grant opens. */
  port?: number;
  meta: RequestMeta;
  /** Facts for the audit record besides the grant id, its operations and the runner. */
  details?: AuditEntry['details'];
}

const scopeFor: Record<AccessOperation, 'environments:exec' | 'environments:read'> = {
  exec: 'environments:exec',
  'files:read': 'environments:read',
  'files:write': 'environments:exec',
  logs: 'environments:read',
  terminal: 'environments:exec',
  ssh: 'environments:exec',
  'ports:read': 'environments:read',
  'ports:connect': 'environments:exec',
  agent: 'environments:exec',
};

/**
 * Signs a short-lived grant for the environment's own runner, naming the operations allowed.
 * Only the owner of the environment gets one, unless an owner or admin gives a break-glass
 * reason and the organization allows break-glass (see `openerOf`). The grant is audited before
 * it is returned.
 */
export async function createAccessGrant(
  context: Context,
  principal: UserPrincipal,
  environmentId: string,
  operations: AccessOperation[],
  meta: RequestMeta,
  options: { breakGlassReason?: string | undefined } = {},
) {
  const missing = operations.filter((op) => !principal.scopes.includes(scopeFor[op]));
  if (missing.length > 0) {
    const needed = [...new Set(missing.map((op) => scopeFor[op]))].join(', ');
    throw new HangarError(
      'forbidden',
      `the API token lacks the scope ${needed} for ${missing.join(', ')}`,
    );
  }
  const { row, breakGlass } = await openerOf(context, principal, environmentId, options);
  if (breakGlass && operations.includes('agent')) {
    throw new HangarError(
      'forbidden',
      "op agent is for the environment's owner only, even with break-glass: a prompt or a " +
        "transcript of another member's agent task is not opened this way",
      { fields: [{ field: 'operations', message: 'agent is for the owner only' }] },
    );
  }
  if (row.phase === 'deleted' || row.desired_phase === 'deleted') {
    throw new HangarError('not_found', `environment ${environmentId} was deleted`);
  }
  const runner = await gatewayRunner(context, row.runner_id);
  if (breakGlass) {
    await context.audit.record({
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'environment.break-glass',
      target: { kind: 'environment', id: row.id },
      outcome: 'success',
      ...meta,
      details: {
        reason: breakGlass.reason,
        operations: operations.join(' '),
        environmentOwner: row.owner_id,
        role: principal.role,
      },
    });
  }
  const grant = await issueGrant(context, {
    orgId: principal.orgId,
    actor: actorOf(principal),
    runnerId: runner.id,
    environmentId: row.id,
    operations,
    meta,
    ...(breakGlass ? { details: { breakGlass: true, environmentOwner: row.owner_id } } : {}),
  });
  const ssh = runnerSsh(runner);
  return {
    ...grant,
    gatewayUrl: runner.gateway_url,
    runnerId: runner.id,
    environmentId: row.id,
    ...(ssh ? { ssh: { ...ssh, username: row.id } } : {}),
  };
}

/**
 * The environment the principal may open, and whether opening it is break-glass. Without a
 * reason, or for anyone but an owner or admin, only the environment's owner may open it, as
 * always. An owner or admin with a reason opens another member's environment only when the
 * organization policy `breakGlass` is on; when it is off the refusal names the policy.
 */
async function openerOf(
  context: Context,
  principal: UserPrincipal,
  environmentId: string,
  options: { breakGlassReason?: string | undefined },
): Promise<{ row: EnvironmentRow; breakGlass?: { reason: string } }> {
  const reason = options.breakGlassReason;
  if (reason === undefined || !isAdmin(principal)) {
    return { row: await loadEnvironmentFor(context.db, principal, environmentId, 'owner') };
  }
  const row = await loadEnvironmentFor(context.db, principal, environmentId, 'see');
  if (row.owner_id === principal.userId) return { row };
  const problem = unstorableTextReason(reason) ?? (reason.trim().length < 10 ? 'short' : null);
  if (problem !== null) {
    const message = 'must say in at least 10 characters of text why you open it';
    throw new HangarError('invalid_request', `breakGlassReason ${message}`, {
      fields: [{ field: 'breakGlassReason', message }],
    });
  }
  const policy = await policyOf(context.db, principal.orgId);
  if (policy.breakGlass !== true) {
    throw new HangarError(
      'forbidden',
      'break-glass access is off: the organization policy breakGlass does not allow opening ' +
        "another member's environment; an owner or admin may turn breakGlass on, or ask the " +
        'owner of the environment',
      {
        fields: [{ field: 'breakGlassReason', message: 'the policy breakGlass is off' }],
        details: { policy: 'breakGlass' },
      },
    );
  }
  return { row, breakGlass: { reason: storableAuditText(reason, auditLimits.detailText) } };
}

/** The runner an environment lives on, once it has reported where its gateway listens. */
export async function gatewayRunner(
  context: Context,
  runnerId: string,
): Promise<RunnerRow & { gateway_url: string }> {
  const runner = await runnerById(context.db, runnerId);
  if (!runner?.gateway_url) {
    throw new HangarError(
      'runner_unavailable',
      `runner ${runnerId} has not reported a gateway address yet; start it`,
    );
  }
  return { ...runner, gateway_url: runner.gateway_url };
}

/**
 * Builds the claims of a short-lived grant for a runner's data plane, audits it as
 * environment.access and only then signs it: a grant that could not be audited is never given.
 */
export async function issueGrant(
  context: Context,
  request: GrantRequest,
): Promise<{ token: string; expiresAt: string }> {
  const runner = await runnerById(context.db, request.runnerId);
  if (runner?.disabled_at != null) {
    throw new HangarError(
      'runner_unavailable',
      `runner ${request.runnerId} is disabled; no access is granted to its environments until ` +
        'an owner, admin or runner-admin enables it',
    );
  }
  const nowS = Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    iss: 'hangar',
    aud: request.runnerId,
    org: request.orgId,
    env: request.environmentId,
    act: request.actor,
    ops: request.operations,
    ...(request.port === undefined ? {} : { port: request.port }),
    iat: nowS,
    exp: nowS + context.config.accessTokenTtlS,
    jti: newId('grt'),
  };
  await context.audit.record({
    orgId: request.orgId,
    actor: request.actor,
    action: 'environment.access',
    target: { kind: 'environment', id: request.environmentId },
    outcome: 'success',
    ...request.meta,
    details: {
      ...request.details,
      grant: claims.jti,
      operations: request.operations.join(' '),
      runnerId: request.runnerId,
    },
  });
  return {
    token: signAccessToken(claims, context.signingKey.privateKey),
    expiresAt: new Date(claims.exp * 1000).toISOString(),
  };
}
