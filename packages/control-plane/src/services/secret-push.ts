import type { Context } from '../context.js';
import { isDeleted, pushDesired } from './desired-state.js';
import type { EnvironmentRow } from './environment-rows.js';
import { receives, type SecretScopeRef } from './secret-delivery.js';

/**
 * Sends the desired state again to the runner of every environment of the organization that
 * receives a secret of one of `secrets`' scopes, after a secret or signing key changed.
 */
export async function pushSecretChange(
  context: Context,
  orgId: string,
  secrets: readonly SecretScopeRef[],
): Promise<void> {
  if (secrets.length === 0) return;
  const rows = await context.db.query<EnvironmentRow>(
    `SELECT * FROM environments WHERE org_id = ? AND phase <> 'deleted' ORDER BY created_at, id`,
    [orgId],
  );
  const reached = rows.filter(
    (row) => !isDeleted(row) && secrets.some((secret) => receives(row, secret)),
  );
  for (const row of reached) await pushDesired(context, row.id);
}
