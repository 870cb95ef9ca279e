import { HangarError, type CreateEnvironmentBody } from '@hangar/api';
import type { Context } from '../context.js';
import type { UserPrincipal } from '../http/principal.js';
import { allowedClassOf, checkRunnerAllowed, projectsReserving } from './policy-checks.js';
import type { CreatePolicy } from './policy-enforcement.js';
import { runnerClasses, type RunnerRow } from './runners.js';

/**
 * Picks the runner for a new environment: the one asked for, else the organization's oldest
 * runner that is online; among the project's runners when the policy lists some (a runner asked
 * for outside them is refused, and so is a class outside the policy's allowedClasses). The
 * choice is stable: a runner enrolled later (or one that heartbeats more often) does not draw
 * environments away from the established one. A runner that is offline may still be chosen
 * explicitly; the environment then waits for it and fails after the operation timeout.
 */
export async function pickRunner(
  context: Context,
  principal: UserPrincipal,
  body: CreateEnvironmentBody,
  policy: CreatePolicy = { rules: {}, project: undefined },
): Promise<{ runner: RunnerRow; className: string }> {
  const rows = await context.db.query<RunnerRow>(
    `SELECT * FROM runners WHERE org_id = ? AND public_key IS NOT NULL
     ORDER BY connected DESC, created_at, id`,
    [principal.orgId],
  );
  const projectRunners = policy.project?.runners ?? [];
  // Without a runner asked for, one another project reserves is never picked.
  const eligible = projectRunners.length
    ? rows.filter((row) => projectRunners.includes(row.name))
    : rows.filter((row) =>
        projectsReserving(policy.rules, row.name).every(
          (item) => item.name === policy.project?.name,
        ),
      );
  const runner = body.runnerId ? rows.find((row) => row.id === body.runnerId) : eligible[0];
  if (!runner && !body.runnerId && policy.project && projectRunners.length) {
    throw new HangarError(
      'runner_unavailable',
      `no runner of project ${policy.project.name} is enrolled (the organization policy ` +
        `projects allows ${projectRunners.join(', ')}); enroll one of them, or ask an owner or ` +
        'admin to change the project',
    );
  }
  if (!runner) {
    if (body.runnerId) {
      throw new HangarError(
        'not_found',
        `runner ${body.runnerId} does not exist or is not enrolled`,
        {
          fields: [{ field: 'runnerId', message: 'names no enrolled runner of your organization' }],
        },
      );
    }
    throw new HangarError(
      'runner_unavailable',
      'your organization has no enrolled runner; create one with `hangar runner create` and start ' +
        'it with `hangar runner --control-plane URL --enroll TOKEN`',
    );
  }
  checkRunnerAllowed(policy.rules, policy.project, runner.name);
  if (!body.runnerId && runner.connected !== 1) {
    const seen = runner.last_seen_at ? new Date(runner.last_seen_at).toISOString() : 'never';
    throw new HangarError(
      'runner_unavailable',
      `no runner is online; runner ${runner.name} (${runner.id}) was last seen ${seen}; ` +
        'start it, or name a runner with runnerId',
    );
  }
  const classes = runnerClasses(runner);
  const offered = classes.map((item) => item.name);
  const className = allowedClassOf(policy.rules, body.class, offered, runner.name);
  if (!className || !classes.some((item) => item.name === className)) {
    const known = classes.map((item) => item.name).join(', ') || 'none reported yet';
    throw new HangarError(
      'invalid_request',
      `class ${body.class ?? ''} is not offered by runner ${runner.name}`,
      {
        fields: [{ field: 'class', message: `must be one of: ${known}` }],
      },
    );
  }
  return { runner, className };
}
