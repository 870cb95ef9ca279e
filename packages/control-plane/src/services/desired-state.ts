import {
  narrowerLevel,
  type DesiredEnvironment,
  type EgressPolicy,
  type PortShareLevel,
} from '@hangar/api';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../storage/database.js';
import { egressRuleFor } from './egress-policy.js';
import { toDesired, type EnvironmentRow } from './environment-rows.js';
import { levelOf, policyOf } from './policy-store.js';
import { secretsOfRows } from './secret-delivery.js';

export interface ShareRow {
  environment_id: string;
  port: number;
  level: string;
  updated_by: string;
  updated_at: number;
  [key: string]: string | number | null;
}

type PortEntry = DesiredEnvironment['ports'][number];

export function isDeleted(row: EnvironmentRow): boolean {
  return row.phase === 'deleted' || row.desired_phase === 'deleted';
}

/**
 * The shared ports of each environment at their effective level: the stored level, never wider
 * than its organization's policy. Private ports are left out (a port not listed is private).
 */
export async function sharedPorts(
  db: Queryable,
  rows: readonly EnvironmentRow[],
): Promise<Map<string, PortEntry[]>> {
  const result = new Map<string, PortEntry[]>(rows.map((row) => [row.id, []]));
  if (rows.length === 0) return result;
  const policies = new Map<string, PortShareLevel>();
  for (const orgId of new Set(rows.map((row) => row.org_id))) {
    policies.set(orgId, (await policyOf(db, orgId)).maxPortShareLevel);
  }
  const orgOf = new Map(rows.map((row) => [row.id, row.org_id]));
  const ids = rows.map((row) => row.id);
  const shares = await db.query<ShareRow>(
    `SELECT * FROM port_shares WHERE environment_id IN (${ids.map(() => '?').join(', ')})
     ORDER BY environment_id, port`,
    ids,
  );
  for (const share of shares) {
    const ceiling = policies.get(orgOf.get(share.environment_id) ?? '') ?? 'private';
    const level = narrowerLevel(levelOf(share.level), ceiling);
    if (level !== 'private') result.get(share.environment_id)?.push({ port: share.port, level });
  }
  return result;
}

/** The effective level of one port of one environment; `private` when it is not shared. */
export async function effectiveLevel(
  db: Queryable,
  row: EnvironmentRow,
  port: number,
): Promise<PortShareLevel> {
  const ports = (await sharedPorts(db, [row])).get(row.id) ?? [];
  return ports.find((entry) => entry.port === port)?.level ?? 'private';
}

/** The desired state of each row; `logger` hears of secrets left out (see `secretsOfRows`). */
export async function desiredOfRows(
  db: Queryable,
  rows: readonly EnvironmentRow[],
  logger?: Logger,
): Promise<DesiredEnvironment[]> {
  const ports = await sharedPorts(db, rows);
  const secrets = await secretsOfRows(db, rows, logger);
  const egress = new Map<string, EgressPolicy | undefined>();
  for (const orgId of new Set(rows.map((row) => row.org_id))) {
    egress.set(orgId, (await policyOf(db, orgId)).egress);
  }
  return rows.map((row) => {
    const desired = toDesired(row, ports.get(row.id) ?? [], secrets.get(row.id) ?? []);
    const rule = egressRuleFor(egress.get(row.org_id), desired.spec.class);
    return rule ? { ...desired, egress: rule } : desired;
  });
}

/**
 * Pushes every environment of the organization that is not deleted, except those in `done`:
 * after a change of the egress policy, which applies to each at once (no restart).
 */
export async function pushOrgEnvironments(
  context: Context,
  orgId: string,
  done: readonly string[] = [],
): Promise<void> {
  const rows = await context.db.query<{ id: string }>(
    `SELECT id FROM environments WHERE org_id = ? AND phase <> 'deleted'
       AND desired_phase <> 'deleted' ORDER BY id`,
    [orgId],
  );
  const skip = new Set(done);
  for (const row of rows) if (!skip.has(row.id)) await pushDesired(context, row.id);
}

/** The push of each environment in progress: pushes of one environment run one at a time. */
const pushing = new Map<string, Promise<void>>();

/**
 * Sends the environment's desired state, as stored now, to its runner. A change of shared ports
 * alone keeps the generation, so the runner takes the last message it gets: pushes of one
 * environment run one after another, each reading what it sends, so an older state is never
 * sent after a newer one. A deleted environment is not pushed unless `evenIfDeleted` (the
 * delete itself is). A failure is logged, never thrown: the change it carries is committed.
 */
export function pushDesired(
  context: Context,
  environmentId: string,
  options: { evenIfDeleted?: boolean } = {},
): Promise<void> {
  const previous = pushing.get(environmentId) ?? Promise.resolve();
  const next = previous.then(async () => {
    const rows = await context.db.query<EnvironmentRow>('SELECT * FROM environments WHERE id = ?', [
      environmentId,
    ]);
    const row = rows[0];
    if (!row || (isDeleted(row) && !options.evenIfDeleted)) return;
    const [desired] = await desiredOfRows(context.db, [row], context.logger);
    if (desired) context.runners.push(row.runner_id, desired);
  });
  const settled = next.catch((error: unknown) =>
    context.logger.error(
      { err: error, environmentId },
      'pushing the desired state failed; the runner gets it on its next connection',
    ),
  );
  pushing.set(environmentId, settled);
  void settled.then(() => {
    if (pushing.get(environmentId) === settled) pushing.delete(environmentId);
  });
  return settled;
}
