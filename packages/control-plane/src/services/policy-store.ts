import {
  HangarError,
  OrgRulesSchema,
  orgRuleNames,
  portShareLevels,
  validator,
  type OrgPolicy,
  type OrgRules,
  type PortShareLevel,
} from '@hangar/api';
import type { Queryable } from '../storage/database.js';

/** What an organization allows when it has never set a policy. */
export const defaultMaxPortShareLevel: PortShareLevel = 'org';

interface PolicyRow {
  org_id: string;
  max_port_share_level: string;
  updated_by: string;
  updated_at: number;
  rules: string | null;
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
    ...rulesOf(row.rules),
    updatedBy: row.updated_by,
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The rules of a policy, without its port share level and who changed it when. */
export function rulesOfPolicy(policy: OrgPolicy): OrgRules {
  const rules: Record<string, unknown> = {};
  for (const name of orgRuleNames) {
    if (policy[name] !== undefined) rules[name] = policy[name];
  }
  return rules;
}

/**
 * Locks the organization until the transaction ends, so that checks of organization-wide limits
 * and the writes they allow are not interleaved. PostgreSQL locks the org row; on SQLite
 * `forUpdate` is empty and write transactions are serialized anyway.
 */
export async function lockOrg(tx: Queryable, orgId: string, forUpdate: string): Promise<void> {
  await tx.query(`SELECT id FROM orgs WHERE id = ? ${forUpdate}`, [orgId]);
}

const checkRules = validator(OrgRulesSchema, 'stored organization rules');

/** The stored rules document; a corrupt one fails closed rather than reading as "no limits". */
export function rulesOf(text: string | null): OrgRules {
  if (text === null) return {};
  try {
    return checkRules(JSON.parse(text));
  } catch {
    throw new HangarError('internal', 'the stored organization policy is corrupt; set it again');
  }
}
