import { HangarError } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import { gatewayRunner, issueGrant } from './access-grants.js';
import { effectiveLevel, isDeleted } from './desired-state.js';
import type { EnvironmentRow } from './environment-rows.js';
import { refuseReservedPort } from './port-shares.js';

/**
 * A grant for one port of an environment, if its share level admits the caller: `private` only
 * the owner, `org` and `public` any member of the organization (the runner also admits anyone
 * without a grant to a public port). A private port of someone else's environment is not found
 * for those who may not see the environment, and forbidden for admins, who may.
 */
export async function createPortGrant(
  context: Context,
  principal: UserPrincipal,
  input: { environmentId: string; port: number },
  meta: RequestMeta,
) {
  const { environmentId, port } = input;
  const rows = await context.db.query<EnvironmentRow>(
    'SELECT * FROM environments WHERE id = ? AND org_id = ?',
    [environmentId, principal.orgId],
  );
  const row = rows[0];
  const hidden = new HangarError(
    'not_found',
    `environment ${environmentId} does not exist or is not yours`,
  );
  if (!row || isDeleted(row)) throw hidden;
  refuseReservedPort(port);
  const level = await effectiveLevel(context.db, row, port);
  const isOwner = row.owner_id === principal.userId;
  if (level === 'private' && !isOwner) {
    if (!isAdmin(principal) && principal.role !== 'auditor') throw hidden;
    throw new HangarError(
      'forbidden',
      `port ${port} of environment ${row.name} is private: only its owner may open it; ` +
        'the owner can share it with `hangar port share`',
    );
  }
  const runner = await gatewayRunner(context, row.runner_id);
  const grant = await issueGrant(context, {
    orgId: principal.orgId,
    actor: actorOf(principal),
    runnerId: runner.id,
    environmentId: row.id,
    operations: ['ports:connect'],
    port,
    meta,
    details: { method: 'port', port, level, owner: isOwner },
  });
  const gateway = runner.gateway_url.replace(/\/+$/, '');
  return {
    ...grant,
    url: `${gateway}/ports/${row.id}/${port}/`,
    level,
  };
}
