import type { CreateEnvironmentBody, EnvironmentSpec, OrgRules, ProjectRule } from '@hangar/api';
import type { Queryable } from '../storage/database.js';
import {
  allowedClassOf,
  checkRepositoryAllowed,
  checkRunnerAllowed,
  projectOf,
  runningLimitRefusal,
} from './policy-checks.js';
import { lockOrg, policyOf, rulesOfPolicy } from './policy-store.js';

/** What the organization policy allows a new environment, once its own checks passed. */
export interface CreatePolicy {
  rules: OrgRules;
  project: ProjectRule | undefined;
}

/**
 * Checks a create request against the rules that do not depend on the runner: the project it
 * names and the repository. The runner and class rules apply while the runner is chosen (see
 * `pickRunner`), the running limits in the transaction that inserts it (`checkRunningLimits`).
 */
export async function createPolicyOf(
  db: Queryable,
  orgId: string,
  body: CreateEnvironmentBody,
): Promise<CreatePolicy> {
  const rules = rulesOfPolicy(await policyOf(db, orgId));
  const project = projectOf(rules, body.project);
  checkRepositoryAllowed(rules, project, body.repository?.url);
  return { rules, project };
}

/**
 * Checks a stopped (or failed) environment against the create rules in force now, before it
 * starts again: its project, repository, class and runner. A policy tightened since create
 * refuses the start, naming the rule; the running limits are checked apart (`checkRunningLimits`).
 */
export async function checkStartPolicy(
  tx: Queryable,
  environment: { orgId: string; runnerId: string; spec: EnvironmentSpec },
): Promise<void> {
  const rules = rulesOfPolicy(await policyOf(tx, environment.orgId));
  const { spec } = environment;
  const project = projectOf(rules, spec.project);
  checkRepositoryAllowed(rules, project, spec.repository?.url);
  const runners = await tx.query<{ name: string }>('SELECT name FROM runners WHERE id = ?', [
    environment.runnerId,
  ]);
  const runnerName = runners[0]?.name ?? environment.runnerId;
  allowedClassOf(rules, spec.class, [], runnerName);
  checkRunnerAllowed(rules, project, runnerName);
}

async function countOf(tx: Queryable, sql: string, params: string[]): Promise<number> {
  const rows = await tx.query<{ n: number }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Refuses one more running environment for `ownerId` when it would exceed `maxRunningPerUser`
 * or `maxRunningPerOrg`. Call it inside the transaction that then makes the environment
 * running: the organization stays locked until that transaction ends, so two concurrent
 * requests cannot both pass the count.
 */
export async function checkRunningLimits(
  tx: Queryable,
  forUpdate: string,
  subject: { orgId: string; ownerId: string; self: boolean },
): Promise<void> {
  const rules = rulesOfPolicy(await policyOf(tx, subject.orgId));
  if (rules.maxRunningPerUser === undefined && rules.maxRunningPerOrg === undefined) return;
  await lockOrg(tx, subject.orgId, forUpdate);
  const running = `SELECT COUNT(*) AS n FROM environments
     WHERE org_id = ? AND desired_phase = 'running' AND phase <> 'deleted'`;
  const counts = {
    owner: await countOf(tx, `${running} AND owner_id = ?`, [subject.orgId, subject.ownerId]),
    org: await countOf(tx, running, [subject.orgId]),
  };
  const refusal = runningLimitRefusal(rules, counts, subject.self);
  if (refusal) throw refusal;
}
