import { HangarError } from '@hangar/api';
import type { Queryable } from '../storage/database.js';
import { isAdmin, type UserPrincipal } from '../http/principal.js';
import type { EnvironmentRow } from './environment-rows.js';

export type EnvironmentNeed = 'see' | 'owner' | 'owner-or-admin';

/**
 * Loads one environment for a principal, or refuses. What the principal may not see is reported
 * as not found, so an id from another organization or another member reveals nothing.
 */
export async function loadEnvironmentFor(
  db: Queryable,
  principal: UserPrincipal,
  id: string,
  need: EnvironmentNeed,
  options: { forUpdate?: string } = {},
): Promise<EnvironmentRow> {
  const rows = await db.query<EnvironmentRow>(
    `SELECT * FROM environments WHERE id = ? AND org_id = ? ${options.forUpdate ?? ''}`,
    [id, principal.orgId],
  );
  const row = rows[0];
  const isOwner = row?.owner_id === principal.userId;
  const canSee =
    row !== undefined && (isOwner || isAdmin(principal) || principal.role === 'auditor');
  if (!row || !canSee) {
    throw new HangarError('not_found', `environment ${id} does not exist or is not yours`);
  }
  if (need === 'owner' && !isOwner) {
    throw new HangarError('forbidden', 'only the owner of this environment may open it');
  }
  if (need === 'owner-or-admin' && !isOwner && !isAdmin(principal)) {
    throw new HangarError('forbidden', 'only the owner or an admin may change this environment');
  }
  return row;
}
