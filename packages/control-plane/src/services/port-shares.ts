import {
  HangarError,
  narrowerLevel,
  reservedPortProblem,
  type PortShare,
  type PortShareLevel,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { isDeleted, pushDesired, type ShareRow } from './desired-state.js';
import { loadEnvironmentFor } from './environment-access.js';
import type { EnvironmentRow } from './environment-rows.js';
import { levelOf, policyOf } from './policy-store.js';

/** The caller's own environment, locked for the change; others see it as not found. */
async function ownEnvironment(
  tx: Queryable,
  principal: UserPrincipal,
  id: string,
  forUpdate: string,
): Promise<EnvironmentRow> {
  const row = await loadEnvironmentFor(tx, principal, id, 'see', { forUpdate });
  if (isDeleted(row)) throw new HangarError('not_found', `environment ${id} was deleted`);
  if (row.owner_id !== principal.userId) {
    throw new HangarError('forbidden', 'only the owner of this environment may share its ports');
  }
  return row;
}

function policyRefusal(level: PortShareLevel, ceiling: PortShareLevel): HangarError {
  const message =
    `the organization policy maxPortShareLevel is ${ceiling}, so a port cannot be shared ` +
    `${level}; an owner or admin of the organization can raise it ` +
    `(\`hangar org policy set --max-port-share-level ${level}\`)`;
  return new HangarError('forbidden', message, {
    fields: [{ field: 'level', message: `must be at most ${ceiling} (organization policy)` }],
    details: { policy: 'maxPortShareLevel' },
  });
}

/**
 * Sets the share level of one port, owner only. A level wider than the organization policy is
 * refused with an error naming the policy. The change is audited with the old and new levels,
 * and the runner gets the new ports with the same generation.
 */
export async function setPortShare(
  context: Context,
  principal: UserPrincipal,
  input: { environmentId: string; port: number; level: PortShareLevel },
  meta: RequestMeta,
): Promise<PortShare> {
  const { environmentId, port, level } = input;
  const now = Date.now();
  const result = await context.db.transaction(async (tx) => {
    await ownEnvironment(tx, principal, environmentId, context.db.forUpdate);
    refuseReservedPort(port);
    const { maxPortShareLevel: ceiling } = await policyOf(tx, principal.orgId);
    if (narrowerLevel(level, ceiling) !== level) throw policyRefusal(level, ceiling);
    const existing = await tx.query<ShareRow>(
      `SELECT * FROM port_shares WHERE environment_id = ? AND port = ? ${context.db.forUpdate}`,
      [environmentId, port],
    );
    const oldLevel = existing[0] ? levelOf(existing[0].level) : 'private';
    if (level === 'private') {
      await tx.execute('DELETE FROM port_shares WHERE environment_id = ? AND port = ?', [
        environmentId,
        port,
      ]);
    } else {
      await tx.execute(
        `INSERT INTO port_shares (environment_id, port, level, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (environment_id, port) DO UPDATE SET level = excluded.level,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        [environmentId, port, level, principal.userId, now],
      );
    }
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'environment.port.share',
      target: { kind: 'environment', id: environmentId },
      outcome: 'success',
      ...meta,
      details: { port, oldLevel, newLevel: level, noop: oldLevel === level ? true : undefined },
    });
    return { changed: oldLevel !== level, ceiling };
  });
  if (result.changed) await pushDesired(context, environmentId);
  return {
    environmentId,
    port,
    level,
    effectiveLevel: narrowerLevel(level, result.ceiling),
    updatedBy: principal.userId,
    updatedAt: new Date(now).toISOString(),
  };
}

/** The egress proxy's port is the runner's; sharing or opening it is refused. */
export function refuseReservedPort(port: number): void {
  const problem = reservedPortProblem(port);
  if (problem) {
    throw new HangarError('invalid_request', problem, {
      fields: [{ field: 'port', message: problem }],
    });
  }
}
