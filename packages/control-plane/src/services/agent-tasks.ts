import {
  HangarError,
  newId,
  type AgentTask,
  type CreateAgentTaskBody,
  type OrgRules,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { agentEgressOf, agentRefusal, limitsOf, modelOf, toolsOf } from './agent-policy.js';
import {
  isFinal,
  stateOf,
  toAgentTask,
  toDesiredAgentTask,
  type AgentTaskRow,
  type AgentTaskSpec,
} from './agent-task-rows.js';
import { isDeleted } from './desired-state.js';
import { specOf, type EnvironmentRow } from './environment-rows.js';
import { createEnvironment, transitionEnvironment } from './environments.js';
import { lockOrg, policyOf, rulesOfPolicy } from './policy-store.js';

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

/** Refuses a body that names both an environment and a repository, or neither. */
function checkTarget(body: CreateAgentTaskBody): void {
  if (body.environmentId !== undefined && body.repository !== undefined) {
    throw invalid('repository', 'cannot be given with environmentId: name one or the other');
  }
  if (body.environmentId === undefined && body.repository === undefined) {
    throw invalid(
      'environmentId',
      'is required unless repository is given (a fresh environment for the task)',
    );
  }
  for (const field of ['class', 'name'] as const) {
    if (body.environmentId !== undefined && body[field] !== undefined) {
      throw invalid(field, 'is only for a fresh environment (with repository); leave it out');
    }
  }
}

/** The caller's own environment, or not found: another member's is not even confirmed. */
async function ownEnvironment(
  context: Context,
  principal: UserPrincipal,
  id: string,
): Promise<EnvironmentRow> {
  const rows = await context.db.query<EnvironmentRow>(
    'SELECT * FROM environments WHERE id = ? AND org_id = ? AND owner_id = ?',
    [id, principal.orgId, principal.userId],
  );
  const row = rows[0];
  if (!row || isDeleted(row)) {
    throw new HangarError('not_found', `environment ${id} does not exist or is not yours`);
  }
  if (row.desired_phase !== 'running') {
    throw new HangarError(
      'environment_not_running',
      `environment ${row.name} is ${row.desired_phase}; start it first (\`hangar env start ` +
        `${row.name}\`)`,
    );
  }
  return row;
}

/**
 * Whether the environment (its owner and project) receives the `model` secret `name`: one of
 * the organization, of its project, or of its owner.
 */
async function receivesModelSecret(
  db: Queryable,
  orgId: string,
  name: string,
  environment: { ownerId: string; project: string | undefined },
): Promise<boolean> {
  const rows = await db.query<{ scope: string; scope_id: string }>(
    `SELECT scope, scope_id FROM secrets
     WHERE org_id = ? AND name = ? AND delivery = 'model' AND deleted_at IS NULL`,
    [orgId, name],
  );
  return rows.some(
    (row) =>
      row.scope === 'org' ||
      (row.scope === 'project' && row.scope_id === environment.project) ||
      (row.scope === 'user' && row.scope_id === environment.ownerId),
  );
}

async function checkKeySecret(
  context: Context,
  principal: UserPrincipal,
  spec: AgentTaskSpec,
  project: string | undefined,
): Promise<void> {
  const name = spec.model.keySecret;
  if (name === undefined) {
    if (spec.command?.keyVariable !== undefined) {
      throw invalid('command.keyVariable', 'needs model.keySecret: the secret it is given from');
    }
    return;
  }
  const ownerId = principal.userId;
  if (await receivesModelSecret(context.db, principal.orgId, name, { ownerId, project })) return;
  throw invalid(
    'model.keySecret',
    `names no secret with delivery model that the task's environment receives (${name}); ` +
      'set one of the organization, the project or your own (`hangar secret set NAME ' +
      '--model-key`), or name another',
  );
}

/** The rules a new task gets, resolved from the body and the organization policy. */
function resolvedSpec(body: CreateAgentTaskBody, rules: OrgRules): AgentTaskSpec {
  const agents = rules.agents ?? {};
  const tools = toolsOf(body.tools, agents);
  if (body.command && !tools.includes('run_command')) {
    throw agentRefusal(
      'agents.allowedTools',
      'a command-line agent runs a command, and the tools it may use leave out run_command ' +
        '(organization policy agents.allowedTools, or --tool); allow it, or use the loop',
      { field: 'command', message: 'needs the tool run_command' },
    );
  }
  const spec: AgentTaskSpec = {
    model: modelOf(body.model, agents),
    tools,
    limits: limitsOf(body.limits),
    deniedCommandPatterns: agents.deniedCommandPatterns ?? [],
    writablePaths: agents.writablePaths ?? [],
    egress: agentEgressOf(rules),
  };
  if (body.command) spec.command = body.command;
  return spec;
}

async function countOf(tx: Queryable, sql: string, params: string[]): Promise<number> {
  const rows = await tx.query<{ n: number }>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Refuses one more task when the owner's or the organization's queued and running tasks reach
 * `agents.maxRunningPerUser` or `agents.maxRunningPerOrg`. Call it in the transaction that
 * inserts the task: the organization stays locked until it ends.
 */
async function checkAgentLimits(
  tx: Queryable,
  forUpdate: string,
  subject: { orgId: string; ownerId: string },
): Promise<void> {
  const agents = rulesOfPolicy(await policyOf(tx, subject.orgId)).agents ?? {};
  const { maxRunningPerUser: perUser, maxRunningPerOrg: perOrg } = agents;
  if (perUser === undefined && perOrg === undefined) return;
  await lockOrg(tx, subject.orgId, forUpdate);
  const unended = `SELECT COUNT(*) AS n FROM agent_tasks
     WHERE org_id = ? AND state IN ('queued', 'running')`;
  const owner = await countOf(tx, `${unended} AND owner_id = ?`, [subject.orgId, subject.ownerId]);
  if (perUser !== undefined && owner + 1 > perUser) {
    throw agentRefusal(
      'agents.maxRunningPerUser',
      `the organization policy agents.maxRunningPerUser is ${perUser} and you already have ` +
        `${owner} queued or running; stop one first (\`hangar agent stop ID\`), or ask an ` +
        'owner or admin to raise it',
    );
  }
  const org = await countOf(tx, unended, [subject.orgId]);
  if (perOrg !== undefined && org + 1 > perOrg) {
    throw agentRefusal(
      'agents.maxRunningPerOrg',
      `the organization policy agents.maxRunningPerOrg is ${perOrg} and the organization ` +
        `already has ${org} queued or running; stop one first, or ask an owner or admin to ` +
        'raise it',
    );
  }
}

/** A fresh environment for the task, made through the one create service (policies apply). */
async function freshEnvironment(
  context: Context,
  principal: UserPrincipal,
  body: CreateAgentTaskBody,
  meta: RequestMeta,
): Promise<EnvironmentRow> {
  if (!principal.scopes.includes('environments:write')) {
    throw new HangarError(
      'forbidden',
      'the API token lacks the scope environments:write for a fresh environment; create a ' +
        'token that has it, or name an environment of yours with environmentId',
    );
  }
  const created = await createEnvironment(
    context,
    principal,
    {
      ...(body.repository ? { repository: body.repository } : {}),
      ...(body.class ? { class: body.class } : {}),
      ...(body.name ? { name: body.name } : {}),
    },
    meta,
  );
  const rows = await context.db.query<EnvironmentRow>('SELECT * FROM environments WHERE id = ?', [
    created.id,
  ]);
  if (!rows[0]) throw new HangarError('internal', `environment ${created.id} vanished`);
  return rows[0];
}

/**
 * Creates an agent task in the caller's environment, or in a fresh one from a repository. The
 * model, tools and limits are resolved against the organization policy and stored with the
 * task; the prompt never arrives here, only its SHA-256. The task is audited and pushed to the
 * environment's runner, which waits for the prompt at its gateway.
 */
export async function createAgentTask(
  context: Context,
  principal: UserPrincipal,
  body: CreateAgentTaskBody,
  meta: RequestMeta,
): Promise<AgentTask> {
  checkTarget(body);
  const rules = rulesOfPolicy(await policyOf(context.db, principal.orgId));
  const spec = resolvedSpec(body, rules);
  const existing =
    body.environmentId === undefined
      ? undefined
      : await ownEnvironment(context, principal, body.environmentId);
  await checkKeySecret(context, principal, spec, existing ? specOf(existing).project : undefined);
  const limits = { orgId: principal.orgId, ownerId: principal.userId };
  // A fresh environment is only made when the limits allow the task now; the check is made
  // again, binding, with the task's insert.
  if (!existing) await checkAgentLimits(context.db, '', limits);
  const environment = existing ?? (await freshEnvironment(context, principal, body, meta));
  try {
    const id = await insertTask(context, principal, { body, spec, environment, meta });
    const row = await taskById(context.db, id);
    pushTask(context, row);
    return toAgentTask(row);
  } catch (error) {
    if (!existing) await discardFresh(context, principal, environment, meta);
    throw error;
  }
}

async function insertTask(
  context: Context,
  principal: UserPrincipal,
  task: {
    body: CreateAgentTaskBody;
    spec: AgentTaskSpec;
    environment: EnvironmentRow;
    meta: RequestMeta;
  },
): Promise<string> {
  const { body, spec, environment } = task;
  const id = newId('agt');
  const kind = spec.command ? 'command' : 'loop';
  await context.db.transaction(async (tx) => {
    const limits = { orgId: principal.orgId, ownerId: principal.userId };
    await checkAgentLimits(tx, context.db.forUpdate, limits);
    await tx.execute(
      `INSERT INTO agent_tasks (id, org_id, owner_id, environment_id, runner_id, kind, desired,
         state, spec, prompt_sha256, steps, input_tokens, output_tokens, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'run', 'queued', ?, ?, 0, 0, 0, ?)`,
      [
        id,
        principal.orgId,
        principal.userId,
        environment.id,
        environment.runner_id,
        kind,
        JSON.stringify(spec),
        body.promptSha256,
        Date.now(),
      ],
    );
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'agent.task.create',
      target: { kind: 'agent-task', id },
      outcome: 'success',
      ...task.meta,
      details: {
        environmentId: environment.id,
        runnerId: environment.runner_id,
        kind,
        modelApi: spec.model.api,
        model: spec.model.model,
        keySecret: spec.model.keySecret,
        tools: spec.tools.join(' '),
        ...spec.limits,
        egress: spec.egress.mode,
        promptSha256: body.promptSha256,
      },
    });
  });
  return id;
}

/** Deletes the fresh environment of a task that was then refused; a failure is only logged. */
async function discardFresh(
  context: Context,
  principal: UserPrincipal,
  environment: EnvironmentRow,
  meta: RequestMeta,
): Promise<void> {
  await transitionEnvironment(context, principal, environment.id, 'delete', meta).catch(
    (error: unknown) =>
      context.logger.error(
        { err: error, environmentId: environment.id },
        'the fresh environment of a refused agent task was not deleted; delete it by hand',
      ),
  );
}

export async function taskById(db: Queryable, id: string): Promise<AgentTaskRow> {
  const rows = await db.query<AgentTaskRow>('SELECT * FROM agent_tasks WHERE id = ?', [id]);
  if (!rows[0]) throw new HangarError('internal', `agent task ${id} vanished`);
  return rows[0];
}

/** Sends the task as stored to its runner, if connected; it gets it on its next welcome anyway. */
export function pushTask(context: Context, row: AgentTaskRow): void {
  context.runners.pushAgentTask(row.runner_id, toDesiredAgentTask(row));
}

/** The task for its owner or an admin of its organization; anyone else is told not found. */
async function visibleTask(
  db: Queryable,
  principal: UserPrincipal,
  id: string,
  lock = '',
): Promise<AgentTaskRow> {
  const rows = await db.query<AgentTaskRow>(
    `SELECT * FROM agent_tasks WHERE id = ? AND org_id = ? ${lock}`,
    [id, principal.orgId],
  );
  const row = rows[0];
  if (!row || (row.owner_id !== principal.userId && !isAdmin(principal))) {
    throw new HangarError('not_found', `agent task ${id} does not exist or is not yours`);
  }
  return row;
}

export async function getAgentTask(context: Context, principal: UserPrincipal, id: string) {
  return toAgentTask(await visibleTask(context.db, principal, id));
}

/** The caller's tasks, newest first; with `all`, an admin's view of the whole organization. */
export async function listAgentTasks(
  context: Context,
  principal: UserPrincipal,
  options: { all: boolean },
): Promise<AgentTask[]> {
  if (options.all && !isAdmin(principal)) {
    throw new HangarError(
      'forbidden',
      `the role ${principal.role} may not list every member's agent tasks; leave out all=1 to ` +
        'list your own',
    );
  }
  const mine = options.all ? '' : 'AND owner_id = ?';
  const params = options.all ? [principal.orgId] : [principal.orgId, principal.userId];
  const rows = await context.db.query<AgentTaskRow>(
    `SELECT * FROM agent_tasks WHERE org_id = ? ${mine}
     ORDER BY created_at DESC, id DESC LIMIT 1000`,
    params,
  );
  return rows.map(toAgentTask);
}

/**
 * Asks the runner to stop a task: its desired state becomes `stop`, audited, and pushed. The
 * runner ends the loop and every command it started, then reports `cancelled`. A task that has
 * ended is a conflict; one already being stopped is answered unchanged.
 * Known gap: a task whose runner is offline stays queued or running (and counts against the
 * agent limits) until the runner reconnects and reports it cancelled; the control plane does
 * not end it on its own.
 */
export async function stopAgentTask(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<{ task: AgentTask; changed: boolean }> {
  const changed = await context.db.transaction(async (tx) => {
    const row = await visibleTask(tx, principal, id, context.db.forUpdate);
    const state = stateOf(row);
    if (isFinal(state)) {
      throw new HangarError(
        'conflict',
        `agent task ${id} has already ended (${state}); there is nothing to stop`,
      );
    }
    const audit = {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'agent.task.stop',
      target: { kind: 'agent-task', id },
      outcome: 'success' as const,
      ...meta,
    };
    if (row.desired === 'stop') {
      await context.audit.append(tx, { ...audit, details: { noop: true, state } });
      return false;
    }
    await tx.execute(`UPDATE agent_tasks SET desired = 'stop' WHERE id = ?`, [id]);
    await context.audit.append(tx, {
      ...audit,
      details: { state, ownerId: row.owner_id, environmentId: row.environment_id },
    });
    return true;
  });
  const row = await taskById(context.db, id);
  if (changed) pushTask(context, row);
  return { task: toAgentTask(row), changed };
}

/** Every task of the runner that has not ended, for its welcome. */
export async function desiredAgentTasksFor(context: Context, runnerId: string) {
  const rows = await context.db.query<AgentTaskRow>(
    `SELECT * FROM agent_tasks WHERE runner_id = ? AND state IN ('queued', 'running')
     ORDER BY created_at, id`,
    [runnerId],
  );
  return rows.map(toDesiredAgentTask);
}
