import {
  HangarError,
  narrowerLevel,
  orgRuleNames,
  portShareLevels,
  summarizeFields,
  type OrgPolicy,
  type OrgRuleName,
  type OrgRules,
  type PortShareLevel,
  type UpdateOrgPolicyBody,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { agentPolicyProblems } from './agent-policy.js';
import { pushDesired, pushOrgEnvironments } from './desired-state.js';
import { egressPolicyProblems } from './egress-policy.js';
import { ruleProblems } from './policy-checks.js';
import {
  defaultMaxPortShareLevel,
  levelOf,
  lockOrg,
  policyOf,
  rulesOfPolicy,
} from './policy-store.js';

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

type AuditValue = string | number | boolean | null;

/**
 * A rule's value in an audit record: absent reads null, lists and projects as JSON text.
 * Known gap: audit text is cut at 1000 characters, so a long project list is recorded only in
 * part; a digest of the whole value beside it would close that.
 */
function auditValue(name: OrgRuleName, rules: OrgRules): AuditValue {
  const value = rules[name];
  if (name === 'breakGlass') return value === true;
  if (value === undefined) return null;
  return typeof value === 'object' ? JSON.stringify(value) : value;
}

function capitalized(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/**
 * The rules after the change: `null` clears a rule, and so do an empty list and `breakGlass:
 * false`, so that "no restriction" is stored one way only.
 */
export function nextRules(old: OrgRules, change: UpdateOrgPolicyBody): OrgRules {
  const next: Record<string, unknown> = { ...old };
  for (const name of orgRuleNames) {
    const value = change[name];
    if (value === undefined) continue;
    const cleared = value === null || value === false || (Array.isArray(value) && !value.length);
    if (cleared) delete next[name];
    else next[name] = value;
  }
  return next;
}

/** The rules that differ, and for each its old and new value, named `oldX` and `newX`. */
export function ruleChanges(old: OrgRules, next: OrgRules) {
  const details: Record<string, AuditValue> = {};
  const changed: string[] = [];
  for (const name of orgRuleNames) {
    const before = auditValue(name, old);
    const after = auditValue(name, next);
    if (before === after) continue;
    changed.push(name);
    details[`old${capitalized(name)}`] = before;
    details[`new${capitalized(name)}`] = after;
  }
  return { changed, details };
}

async function checkChange(tx: Queryable, orgId: string, change: UpdateOrgPolicyBody) {
  const names = ['maxPortShareLevel', ...orgRuleNames] as const;
  if (names.every((name) => change[name] === undefined)) {
    throw new HangarError(
      'invalid_request',
      `the body changes nothing: set one of ${names.join(', ')}`,
      { fields: [{ field: '(root)', message: 'set at least one rule, or null to clear one' }] },
    );
  }
  const runners = await tx.query<{ name: string }>('SELECT name FROM runners WHERE org_id = ?', [
    orgId,
  ]);
  const problems = ruleProblems(
    {
      ...(change.allowedRepositoryPatterns
        ? { allowedRepositoryPatterns: change.allowedRepositoryPatterns }
        : {}),
      ...(change.projects ? { projects: change.projects } : {}),
    },
    new Set(runners.map((row) => row.name)),
  );
  problems.push(...agentPolicyProblems(change.agents));
  if (change.egress) problems.push(...egressPolicyProblems(change.egress));
  if (problems.length > 0) {
    throw new HangarError(
      'invalid_request',
      `the policy change is not valid: ${summarizeFields(problems)}`,
      { fields: problems },
    );
  }
}

/**
 * Changes the organization policy: each member of the body sets a rule, `null` clears it.
 * Lowering `maxPortShareLevel` also lowers every share above it (each audited), so raising the
 * policy later does not reopen what it closed, and the runners of the environments concerned
 * get their new ports at once. The change is audited with the old and new value of every rule
 * that changed.
 */
export async function updatePolicy(
  context: Context,
  principal: UserPrincipal,
  change: UpdateOrgPolicyBody,
  meta: RequestMeta,
): Promise<OrgPolicy> {
  if (change.breakGlass !== undefined && principal.role !== 'owner') {
    // An admin who could turn break-glass on could open every member's environment at will.
    throw new HangarError(
      'forbidden',
      'only an owner of the organization may change the policy breakGlass; ask an owner',
      {
        fields: [{ field: 'breakGlass', message: 'owners only' }],
        details: { policy: 'breakGlass' },
      },
    );
  }
  const changed = await context.db.transaction(async (tx) => {
    await lockOrg(tx, principal.orgId, context.db.forUpdate);
    await checkChange(tx, principal.orgId, change);
    const old = await policyOf(tx, principal.orgId);
    const oldRules = rulesOfPolicy(old);
    const rules = nextRules(oldRules, change);
    const level =
      change.maxPortShareLevel === null
        ? defaultMaxPortShareLevel
        : (change.maxPortShareLevel ?? old.maxPortShareLevel);
    const now = Date.now();
    await tx.execute(
      `INSERT INTO org_policies (org_id, max_port_share_level, rules, updated_by, updated_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (org_id) DO UPDATE SET max_port_share_level = excluded.max_port_share_level,
         rules = excluded.rules, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
      [principal.orgId, level, JSON.stringify(rules), principal.userId, now],
    );
    const lowered = await lowerShares(tx, context, principal, level, meta);
    const { changed: names, details } = ruleChanges(oldRules, rules);
    if (level !== old.maxPortShareLevel) {
      names.unshift('maxPortShareLevel');
      details.oldMaxPortShareLevel = old.maxPortShareLevel;
      details.newMaxPortShareLevel = level;
      details.sharesLowered = lowered.length;
    }
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'org.policy.update',
      target: { kind: 'org', id: principal.orgId },
      outcome: 'success',
      ...meta,
      details: { changed: names.join(',') || 'none', ...details },
    });
    return [...new Set(lowered.map((share) => share.environment_id))];
  });
  for (const environmentId of changed) await pushDesired(context, environmentId);
  if (change.egress !== undefined) await pushOrgEnvironments(context, principal.orgId, changed);
  return policyOf(context.db, principal.orgId);
}

/** Lowers every share wider than `level` to it, each audited; returns the shares lowered. */
async function lowerShares(
  tx: Queryable,
  context: Context,
  principal: UserPrincipal,
  level: PortShareLevel,
  meta: RequestMeta,
): Promise<WideShare[]> {
  const lowered = await sharesWiderThan(tx, principal.orgId, level);
  const now = Date.now();
  for (const share of lowered) {
    await tx.execute(
      `UPDATE port_shares SET level = ?, updated_by = ?, updated_at = ?
       WHERE environment_id = ? AND port = ?`,
      [
        narrowerLevel(levelOf(share.level), level),
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
        newLevel: level,
        reason: 'organization policy lowered',
      },
    });
  }
  return lowered;
}
