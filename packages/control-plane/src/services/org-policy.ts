import {
  HangarError,
  narrowerLevel,
  portShareLevels,
  type OrgPolicy,
  type PortShareLevel,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { pushDesired } from './desired-state.js';
import { levelOf, policyOf } from './policy-store.js';

interface WideShare {
  environment_id: string;
  port: number;
  level: string;
  runner_id: string;
  [key: string]: string | number | null;
}

/** Shares in the organization wider than `level`, with the runner of each environment. */
async function sharesWiderThan(tx: Queryable, orgId: string, level: PortShareLevel) {
  const wider = portShareLevels.slice(portShareLevels.indexOf(level) + 1);
  if (wider.length === 0) return [];
  return tx.query<WideShare>(
    `SELECT s.environment_id, s.port, s.level, e.runner_id FROM port_shares s
       JOIN environments e ON e.id = s.environment_id
     WHERE e.org_id = ? AND s.level IN (${wider.map(() => '?').join(', ')})
     ORDER BY s.environment_id, s.port`,
    [orgId, ...wider],
  );
}

/**
 * Changes the organization policy. Lowering `maxPortShareLevel` also lowers every share above
 * it (each audited), so raising the policy later does not reopen what it closed, and the
 * runners of the environments concerned get their new ports at once.
 */
export async function updatePolicy(
  context: Context,
  principal: UserPrincipal,
  change: { maxPortShareLevel?: PortShareLevel | undefined },
  meta: RequestMeta,
): Promise<OrgPolicy> {
  const next = change.maxPortShareLevel;
  if (next === undefined) {
    throw new HangarError('invalid_request', 'the body changes nothing: set maxPortShareLevel', {
      fields: [{ field: 'maxPortShareLevel', message: 'is required' }],
    });
  }
  const changed = await context.db.transaction(async (tx) => {
    const old = await policyOf(tx, principal.orgId, context.db.forUpdate);
    const now = Date.now();
    await tx.execute(
      `INSERT INTO org_policies (org_id, max_port_share_level, updated_by, updated_at)
       VALUES (?, ?, ?, ?)
       ON CONFLICT (org_id) DO UPDATE SET max_port_share_level = excluded.max_port_share_level,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [principal.orgId, next, principal.userId, now],
    );
    const lowered = await sharesWiderThan(tx, principal.orgId, next);
    for (const share of lowered) {
      await tx.execute(
        `UPDATE port_shares SET level = ?, updated_by = ?, updated_at = ?
         WHERE environment_id = ? AND port = ?`,
        [
          narrowerLevel(levelOf(share.level), next),
          principal.userId,
          now,
          share.environment_id,
          share.port,
        ],
      );
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'environment.port.share',
        target: { kind: 'environment', id: share.environment_id },
        outcome: 'success',
        ...meta,
        details: {
          port: share.port,
          oldLevel: share.level,
          newLevel: next,
          reason: 'organization policy lowered',
        },
      });
    }
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'org.policy.update',
      target: { kind: 'org', id: principal.orgId },
      outcome: 'success',
      ...meta,
      details: {
        oldMaxPortShareLevel: old.maxPortShareLevel,
        newMaxPortShareLevel: next,
        sharesLowered: lowered.length,
      },
    });
    return [...new Set(lowered.map((share) => share.environment_id))];
  });
  for (const environmentId of changed) await pushDesired(context, environmentId);
  return policyOf(context.db, principal.orgId);
}
