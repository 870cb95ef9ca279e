import { portShareLevels, type OrgPolicy, type PortShareLevel } from '@hangar/api';
import type { Queryable } from '../storage/database.js';

/** What an organization allows when it has never set a policy. */
export const defaultMaxPortShareLevel: PortShareLevel = 'org';

interface PolicyRow {
  org_id: string;
  max_port_share_level: string;
  updated_by: string;
  updated_at: number;
  [key: string]: string | number | null;
}

/** A stored level; anything unknown reads as the narrowest. */
export function levelOf(text: string): PortShareLevel {
  return (portShareLevels as readonly string[]).includes(text)
    ? (text as PortShareLevel)
    : 'private';
}

/** The organization's policy, the default when it never set one. */
export async function policyOf(db: Queryable, orgId: string, lock = ''): Promise<OrgPolicy> {
  const rows = await db.query<PolicyRow>(`SELECT * FROM org_policies WHERE org_id = ? ${lock}`, [
    orgId,
  ]);
  const row = rows[0];
  if (!row) return { maxPortShareLevel: defaultMaxPortShareLevel };
  return {
    maxPortShareLevel: levelOf(row.max_port_share_level),
    updatedBy: row.updated_by,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
