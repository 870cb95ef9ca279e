import { randomBytes } from 'node:crypto';
import {
  canonicalRepositoryUrl,
  HangarError,
  newId,
  repositoryBaseName,
  repositoryUrlProblem,
  type CreateEnvironmentBody,
  type DesiredPhase,
  type Environment,
  type EnvironmentSpec,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { isUniqueViolation } from '../storage/open.js';
import { loadEnvironmentFor } from './environment-access.js';
import { pushDesired } from './desired-state.js';
import {
  desiredOf,
  initialStatus,
  phaseOf,
  specOf,
  toEnvironment,
  type EnvironmentRow,
} from './environment-rows.js';
import { checkRunningLimits, checkStartPolicy, createPolicyOf } from './policy-enforcement.js';
import { pickRunner } from './runner-choice.js';
import { decideTransition, type Operation } from './transitions.js';

function defaultName(spec: EnvironmentSpec): string {
  const base = spec.repository ? repositoryBaseName(spec.repository.url) : 'env';
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return `${slug || 'env'}-${randomBytes(3).toString('hex')}`;
}

/**
 * Checks the repository and returns the body with its URL in canonical form: the form policies
 * are checked against, the spec stores and the runner clones.
 */
function checkRepository(body: CreateEnvironmentBody): CreateEnvironmentBody {
  if (!body.repository) return body;
  const problem = repositoryUrlProblem(body.repository.url);
  if (problem) {
    throw new HangarError('invalid_request', `repository.url ${problem}`, {
      fields: [{ field: 'repository.url', message: problem }],
    });
  }
  const ref = body.repository.ref;
  if (ref !== undefined && (ref.startsWith('-') || /[\s\u0000-\u001f~^:?*[\\]/.test(ref))) {
    const message = 'is not a valid git ref name';
    throw new HangarError('invalid_request', `repository.ref ${message}`, {
      fields: [{ field: 'repository.ref', message }],
    });
  }
  return {
    ...body,
    repository: { ...body.repository, url: canonicalRepositoryUrl(body.repository.url) },
  };
}

function checkDevcontainerPath(path: string | undefined): void {
  if (path === undefined) return;
  if (path.startsWith('/') || path.split('/').includes('..')) {
    const message = 'must be a relative path inside the repository, without ".."';
    throw new HangarError('invalid_request', `devcontainerPath ${message}`, {
      fields: [{ field: 'devcontainerPath', message }],
    });
  }
}

export async function createEnvironment(
  context: Context,
  principal: UserPrincipal,
  request: CreateEnvironmentBody,
  meta: RequestMeta,
): Promise<Environment> {
  const body = checkRepository(request);
  checkDevcontainerPath(body.devcontainerPath);
  const policy = await createPolicyOf(context.db, principal.orgId, body);
  const { runner, className } = await pickRunner(context, principal, body, policy);
  const spec: EnvironmentSpec = { class: className, desiredPhase: 'running' };
  if (body.project) spec.project = body.project;
  if (body.repository) spec.repository = body.repository;
  if (body.devcontainerPath) spec.devcontainerPath = body.devcontainerPath;
  const name = body.name ?? defaultName(spec);
  const id = newId('env');
  const now = Date.now();
  try {
    await context.db.transaction(async (tx) => {
      const limits = { orgId: principal.orgId, ownerId: principal.userId, self: true };
      await checkRunningLimits(tx, context.db.forUpdate, limits);
      await tx.execute(
        `INSERT INTO environments (id, org_id, owner_id, runner_id, name, active_name, generation,
           spec, desired_phase, phase, status, status_version, operation_started_at, created_at,
           updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?, 'running', 'creating', ?, 1, ?, ?, ?)`,
        [
          id,
          principal.orgId,
          principal.userId,
          runner.id,
          name,
          name,
          JSON.stringify(spec),
          JSON.stringify(initialStatus(now)),
          now,
          now,
          now,
        ],
      );
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'environment.create',
        target: { kind: 'environment', id },
        outcome: 'success',
        ...meta,
        details: { name, runnerId: runner.id, class: className },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HangarError('conflict', `an environment named ${name} already exists`, {
        fields: [{ field: 'name', message: 'is already taken; pick another name' }],
      });
    }
    throw error;
  }
  const row = await rowById(context, id);
  await pushDesired(context, id);
  return toEnvironment(row);
}

async function rowById(context: Context, id: string): Promise<EnvironmentRow> {
  const rows = await context.db.query<EnvironmentRow>('SELECT * FROM environments WHERE id = ?', [
    id,
  ]);
  if (!rows[0]) throw new HangarError('internal', `environment ${id} vanished`);
  return rows[0];
}

export interface TransitionResult {
  environment: Environment;
  changed: boolean;
}

/**
 * Applies start, stop or delete. The decision and the write happen in one transaction with the
 * row locked, so concurrent requests produce exactly one transition.
 */
export async function transitionEnvironment(
  context: Context,
  principal: UserPrincipal,
  id: string,
  operation: Operation,
  meta: RequestMeta,
): Promise<TransitionResult> {
  const need = 'owner-or-admin';
  const changed = await context.db.transaction(async (tx) => {
    const row = await loadEnvironmentFor(tx, principal, id, need, {
      forUpdate: context.db.forUpdate,
    });
    if (row.phase === 'deleted') {
      throw new HangarError('not_found', `environment ${id} was deleted`);
    }
    const decision = decideTransition(operation, desiredOf(row), phaseOf(row));
    if (decision.kind === 'conflict') {
      throw new HangarError(
        'operation_in_progress',
        `environment ${row.name} is busy: ${decision.inProgress} is in progress; ` +
          `wait until it finishes, then ${operation} it`,
        { details: { inProgress: decision.inProgress } },
      );
    }
    const audit = {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: `environment.${operation}` as const,
      target: { kind: 'environment', id },
      outcome: 'success' as const,
      ...meta,
    };
    if (decision.kind === 'noop') {
      await context.audit.append(tx, { ...audit, details: { noop: true } });
      return false;
    }
    if (operation === 'start') {
      await checkStartPolicy(tx, { orgId: row.org_id, runnerId: row.runner_id, spec: specOf(row) });
    }
    if (decision.desired === 'running' && desiredOf(row) !== 'running') {
      const limits = {
        orgId: row.org_id,
        ownerId: row.owner_id,
        self: row.owner_id === principal.userId,
      };
      await checkRunningLimits(tx, context.db.forUpdate, limits);
    }
    await writeDesiredPhase(tx, row, decision.desired, Date.now());
    await context.audit.append(tx, { ...audit, details: { desiredPhase: decision.desired } });
    return true;
  });
  const row = await rowById(context, id);
  if (changed) {
    await pushDesired(context, id, { evenIfDeleted: true });
    // The runner also ends sessions when the desired phase leaves running; this says it twice.
    if (operation === 'delete') {
      context.runners.revoke(row.runner_id, {
        environmentId: id,
        reason: 'the environment was deleted',
      });
    }
  }
  return { environment: toEnvironment(row), changed };
}

/** Sets a new desired phase as a new generation; the caller pushes it once committed. */
export async function writeDesiredPhase(
  tx: Queryable,
  row: EnvironmentRow,
  desired: DesiredPhase,
  now: number,
): Promise<void> {
  const spec = { ...specOf(row), desiredPhase: desired };
  await tx.execute(
    `UPDATE environments SET spec = ?, desired_phase = ?, generation = generation + 1,
       operation_started_at = ?, updated_at = ? WHERE id = ?`,
    [JSON.stringify(spec), desired, now, now, row.id],
  );
}

export async function getEnvironment(context: Context, principal: UserPrincipal, id: string) {
  return toEnvironment(await loadEnvironmentFor(context.db, principal, id, 'see'));
}

/** Waits until the environment's status changes past `afterVersion`, or `waitMs` passes. */
export async function watchEnvironment(
  context: Context,
  principal: UserPrincipal,
  id: string,
  options: { afterVersion: number; waitMs: number },
): Promise<Environment> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const environment = await getEnvironment(context, principal, id);
    if (environment.statusVersion > options.afterVersion || Date.now() >= deadline) {
      return environment;
    }
    await context.statusChanges.wait(id, Math.min(1000, deadline - Date.now()));
  }
}

export async function listEnvironments(
  context: Context,
  principal: UserPrincipal,
  options: { includeDeleted: boolean },
) {
  const deleted = options.includeDeleted ? '' : `AND phase <> 'deleted'`;
  const mine = isAdmin(principal) || principal.role === 'auditor' ? '' : 'AND owner_id = ?';
  const params = mine ? [principal.orgId, principal.userId] : [principal.orgId];
  const rows = await context.db.query<EnvironmentRow>(
    `SELECT * FROM environments WHERE org_id = ? ${deleted} ${mine} ORDER BY created_at, id`,
    params,
  );
  return rows.map(toEnvironment);
}
