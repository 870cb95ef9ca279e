import type { EnvironmentStatus, OrgRules } from '@hangar/api';
import type { Context } from '../context.js';
import { pushDesired } from './desired-state.js';
import { desiredOf, phaseOf, type EnvironmentRow } from './environment-rows.js';
import { writeDesiredPhase } from './environments.js';
import { stopReason, type RunningEnvironmentTimes } from './policy-checks.js';
import { rulesOf } from './policy-store.js';
import { decideTransition } from './transitions.js';

/** Who stops environments for `idleStopAfterMin` and `maxLifetimeMin` in the audit log. */
export const policyActor = { kind: 'system', id: 'policy' } as const;

/**
 * When the environment became running and when it was last active. The runner reports the
 * first (`phaseChangedAt`); the control plane's own time of the report bounds it, so a runner
 * whose clock runs fast cannot keep an environment alive past its limits.
 */
function timesOf(row: EnvironmentRow): RunningEnvironmentTimes {
  const reported = Date.parse((JSON.parse(row.status) as EnvironmentStatus).phaseChangedAt);
  const runningSinceMs = Number.isNaN(reported)
    ? row.updated_at
    : Math.min(reported, row.updated_at);
  return { runningSinceMs, lastActiveAtMs: row.last_active_at };
}

/** The rules of every organization that limits idleness or lifetime. */
async function timedRules(context: Context): Promise<Array<{ orgId: string; rules: OrgRules }>> {
  const rows = await context.db.query<{ org_id: string; rules: string | null }>(
    'SELECT org_id, rules FROM org_policies WHERE rules IS NOT NULL ORDER BY org_id',
  );
  const result: Array<{ orgId: string; rules: OrgRules }> = [];
  for (const row of rows) {
    try {
      const rules = rulesOf(row.rules);
      if (rules.idleStopAfterMin !== undefined || rules.maxLifetimeMin !== undefined) {
        result.push({ orgId: row.org_id, rules });
      }
    } catch (error: unknown) {
      context.logger.error(
        { err: error, orgId: row.org_id },
        'the organization policy is corrupt; its environments are not swept until it is set again',
      );
    }
  }
  return result;
}

/**
 * Stops one environment for `reason` if, read again under its lock, it is still running and
 * still past the limit (activity may have arrived since it was listed). The same transition as
 * `POST /stop`, audited as `environment.stop` by the policy. Returns whether it stopped it.
 */
async function stopForPolicy(
  context: Context,
  id: string,
  rules: OrgRules,
  nowMs: number,
): Promise<boolean> {
  const stopped = await context.db.transaction(async (tx) => {
    const rows = await tx.query<EnvironmentRow>(
      `SELECT * FROM environments WHERE id = ? ${context.db.forUpdate}`,
      [id],
    );
    const row = rows[0];
    if (!row || phaseOf(row) !== 'running') return false;
    const decision = decideTransition('stop', desiredOf(row), phaseOf(row));
    const reason = stopReason(rules, timesOf(row), nowMs);
    if (decision.kind !== 'apply' || reason === null) return false;
    await writeDesiredPhase(tx, row, decision.desired, Date.now());
    await context.audit.append(tx, {
      orgId: row.org_id,
      actor: policyActor,
      action: 'environment.stop',
      target: { kind: 'environment', id },
      outcome: 'success',
      requestId: 'policy-sweeper',
      sourceAddress: 'control-plane',
      details: { desiredPhase: decision.desired, reason, limitMin: rules[reason] ?? null },
    });
    return true;
  });
  if (stopped) await pushDesired(context, id);
  return stopped;
}

/**
 * Stops every running environment that the organization policy says has been idle too long
 * (`idleStopAfterMin`) or running too long (`maxLifetimeMin`) at `nowMs`. A failure on one
 * environment is logged and the others are still swept. Returns how many it stopped.
 */
export async function sweepPolicies(context: Context, nowMs: number): Promise<number> {
  let stopped = 0;
  for (const { orgId, rules } of await timedRules(context)) {
    const rows = await context.db.query<EnvironmentRow>(
      `SELECT * FROM environments WHERE org_id = ? AND desired_phase = 'running'
         AND phase = 'running' ORDER BY created_at, id`,
      [orgId],
    );
    for (const row of rows) {
      if (stopReason(rules, timesOf(row), nowMs) === null) continue;
      try {
        if (await stopForPolicy(context, row.id, rules, nowMs)) stopped += 1;
      } catch (error: unknown) {
        context.logger.error(
          { err: error, environmentId: row.id },
          'stopping an environment for the organization policy failed; the next sweep retries',
        );
      }
    }
  }
  return stopped;
}

export interface PolicySweeper {
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

/** Runs `sweepPolicies` every `intervalMs`, one sweep at a time, logging failures. */
export function startPolicySweeper(context: Context, intervalMs: number): PolicySweeper {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepPolicies(context, Date.now())
      .then((stopped) => {
        if (stopped > 0) context.logger.info({ stopped }, 'stopped environments for the policy');
      })
      .catch((error: unknown) =>
        context.logger.error({ err: error }, 'sweeping environments for the policy failed'),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
