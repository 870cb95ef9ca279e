import {
  HangarError,
  auditLimits,
  storableAuditText,
  type Actor,
  type AgentTaskReport,
  type RunnerMessage,
  type ServerMessage,
} from '@hangar/api';
import type { Context } from '../context.js';
import { builders } from '../http/access-rules.js';
import type { Role } from '../http/principal.js';
import { issueGrant } from '../services/access-grants.js';
import { operationsFor } from '../services/agent-policy.js';
import {
  isFinal,
  stateOf,
  stateRank,
  taskSpecOf,
  type AgentTaskRow,
} from '../services/agent-task-rows.js';
import { isDeleted } from '../services/desired-state.js';
import type { EnvironmentRow } from '../services/environment-rows.js';

export type AgentGrant = ServerMessage & { type: 'agent-grant' };
type GrantRequest = RunnerMessage & { type: 'agent-grant-request' };

/** The runner a message came over, as its session knows it. */
export interface ConnectedRunner {
  id: string;
  orgId: string;
  sourceAddress: string;
}

/** Queued tasks remembered as granted once; the oldest are forgotten past this many. */
const maxQueuedGrants = 10000;

function agentActor(row: AgentTaskRow): Actor {
  return { kind: 'agent', id: row.id, onBehalfOf: row.owner_id };
}

async function taskOf(context: Context, runner: ConnectedRunner, taskId: string) {
  const rows = await context.db.query<AgentTaskRow>(
    'SELECT * FROM agent_tasks WHERE id = ? AND org_id = ? AND runner_id = ?',
    [taskId, runner.orgId, runner.id],
  );
  return rows[0];
}

/**
 * The agent task messages of runners: state reports, and the grants the agent loop asks for.
 * One instance per hub; it remembers which queued tasks were already given a grant.
 */
export class AgentMessages {
  // Known gap: this memory is lost when the control plane restarts, so a task still queued
  // then can get one more grant before it reports running; a column on agent_tasks would close it.
  private readonly grantedWhileQueued = new Set<string>();

  constructor(private readonly context: Context) {}

  /**
   * Records a task's report from its own runner; a report about another runner's task changes
   * nothing. States only move forward (queued, running, then one final state that never
   * changes) and counts never go down, so a late or replayed report cannot undo a newer one.
   * The move to a final state is audited once, as agent.task.end. Returns whether it applied.
   */
  async applyStatus(runner: ConnectedRunner, report: AgentTaskReport): Promise<boolean> {
    const { context } = this;
    return context.db.transaction(async (tx) => {
      const rows = await tx.query<AgentTaskRow>(
        `SELECT * FROM agent_tasks WHERE id = ? AND org_id = ? AND runner_id = ?
         ${context.db.forUpdate}`,
        [report.taskId, runner.orgId, runner.id],
      );
      const row = rows[0];
      if (!row) {
        context.logger.warn(
          { runnerId: runner.id, taskId: report.taskId },
          'agent status for a task that is not this runner’s; ignored',
        );
        return false;
      }
      const current = stateOf(row);
      if (isFinal(current)) return false;
      const forward = stateRank(report.state) > stateRank(current);
      const state = forward ? report.state : current;
      const ending = forward && isFinal(state);
      const now = Date.now();
      const reason = ending && report.reason ? storableAuditText(report.reason, 500) : null;
      const summary = ending ? (report.summarySha256 ?? null) : null;
      await tx.execute(
        `UPDATE agent_tasks SET state = ?,
           steps = CASE WHEN steps > ? THEN steps ELSE ? END,
           input_tokens = CASE WHEN input_tokens > ? THEN input_tokens ELSE ? END,
           output_tokens = CASE WHEN output_tokens > ? THEN output_tokens ELSE ? END,
           started_at = CASE WHEN started_at IS NULL AND ? = 'running' THEN ? ELSE started_at END,
           ended_at = CASE WHEN ? = 1 THEN ? ELSE ended_at END,
           reason = CASE WHEN ? = 1 THEN ? ELSE reason END,
           summary_sha256 = CASE WHEN ? = 1 THEN ? ELSE summary_sha256 END
         WHERE id = ?`,
        [
          state,
          report.steps,
          report.steps,
          report.inputTokens,
          report.inputTokens,
          report.outputTokens,
          report.outputTokens,
          state,
          now,
          ending ? 1 : 0,
          now,
          ending ? 1 : 0,
          reason,
          ending ? 1 : 0,
          summary,
          row.id,
        ],
      );
      if (!ending) return true;
      const [ended] = await tx.query<AgentTaskRow>('SELECT * FROM agent_tasks WHERE id = ?', [
        row.id,
      ]);
      await context.audit.append(tx, {
        orgId: runner.orgId,
        actor: { kind: 'runner', id: runner.id },
        action: 'agent.task.end',
        target: { kind: 'agent-task', id: row.id },
        outcome: state === 'succeeded' ? 'success' : 'failure',
        requestId: 'runner-connection',
        sourceAddress: runner.sourceAddress,
        details: {
          state,
          reason,
          ownerId: row.owner_id,
          environmentId: row.environment_id,
          steps: Number(ended?.steps ?? report.steps),
          inputTokens: Number(ended?.input_tokens ?? report.inputTokens),
          outputTokens: Number(ended?.output_tokens ?? report.outputTokens),
          summarySha256: summary,
        },
      });
      return true;
    });
  }

  /**
   * Answers the agent loop's request for a data-plane grant. The task must be this runner's,
   * not stopped or ended, running (or queued, for its first grant); its owner must still be a
   * member who may build, and still own the environment, which must be on this runner. The
   * grant's actor is the agent on behalf of the owner, its operations those the task's tools
   * need. Every answer is audited: a grant as environment.access, a refusal as access.denied.
   */
  async answerGrant(runner: ConnectedRunner, request: GrantRequest): Promise<AgentGrant> {
    const row = await taskOf(this.context, runner, request.taskId);
    const refusal = row ? await this.refusalOf(row) : undefined;
    if (!row || refusal) {
      const why = refusal ?? {
        code: 'not_found',
        message: `agent task ${request.taskId} is not a task of this runner`,
      };
      await this.auditRefusal(runner, request, row, why.message);
      return { type: 'agent-grant', requestId: request.requestId, ok: false, ...why };
    }
    const spec = taskSpecOf(row);
    try {
      const grant = await issueGrant(this.context, {
        orgId: runner.orgId,
        actor: agentActor(row),
        runnerId: runner.id,
        environmentId: row.environment_id,
        operations: operationsFor(spec.tools, row.kind === 'command' ? 'command' : 'loop'),
        meta: {
          requestId: request.requestId,
          sourceAddress: storableAuditText(runner.sourceAddress, auditLimits.sourceAddress),
        },
        details: { taskId: row.id },
      });
      if (stateOf(row) === 'queued') this.rememberQueuedGrant(row.id);
      return { type: 'agent-grant', requestId: request.requestId, ok: true, ...grant };
    } catch (error) {
      const hangar = error instanceof HangarError ? error : undefined;
      if (!hangar) {
        this.context.logger.error({ err: error, runnerId: runner.id }, 'agent grant failed');
      }
      return {
        type: 'agent-grant',
        requestId: request.requestId,
        ok: false,
        code: hangar?.code ?? 'internal',
        message: storableAuditText(hangar?.message ?? 'the control plane could not decide', 2000),
      };
    }
  }

  private async refusalOf(row: AgentTaskRow) {
    const state = stateOf(row);
    const conflict = (message: string) => ({ code: 'conflict', message });
    if (row.desired === 'stop') return conflict(`agent task ${row.id} was stopped`);
    if (isFinal(state)) return conflict(`agent task ${row.id} has ended (${state})`);
    if (state === 'queued' && this.grantedWhileQueued.has(row.id)) {
      return conflict(
        `agent task ${row.id} is still queued and already got its first grant; report it ` +
          'running before asking again',
      );
    }
    const forbidden = (message: string) => ({ code: 'forbidden', message });
    const owners = await this.context.db.query<{ role: string; removed_at: number | null }>(
      'SELECT role, removed_at FROM users WHERE id = ? AND org_id = ?',
      [row.owner_id, row.org_id],
    );
    const owner = owners[0];
    if (!owner || owner.removed_at !== null) {
      return forbidden(`the owner of agent task ${row.id} was removed from the organization`);
    }
    if (!builders.includes(owner.role as Role)) {
      return forbidden(`the owner's role ${owner.role} may not open environments`);
    }
    const environments = await this.context.db.query<EnvironmentRow>(
      'SELECT * FROM environments WHERE id = ? AND org_id = ?',
      [row.environment_id, row.org_id],
    );
    const environment = environments[0];
    if (!environment || isDeleted(environment)) {
      return forbidden(`the environment of agent task ${row.id} was deleted`);
    }
    if (environment.owner_id !== row.owner_id) {
      return forbidden(`the owner of agent task ${row.id} no longer owns its environment`);
    }
    if (environment.runner_id !== row.runner_id) {
      return forbidden(`the environment of agent task ${row.id} is on another runner`);
    }
    return undefined;
  }

  private rememberQueuedGrant(taskId: string): void {
    this.grantedWhileQueued.add(taskId);
    if (this.grantedWhileQueued.size <= maxQueuedGrants) return;
    const oldest = this.grantedWhileQueued.values().next();
    if (!oldest.done) this.grantedWhileQueued.delete(oldest.value);
  }

  private async auditRefusal(
    runner: ConnectedRunner,
    request: GrantRequest,
    row: AgentTaskRow | undefined,
    reason: string,
  ): Promise<void> {
    await this.context.audit
      .record({
        orgId: runner.orgId,
        actor: row ? agentActor(row) : { kind: 'runner', id: runner.id },
        action: 'access.denied',
        target: row
          ? { kind: 'environment', id: row.environment_id }
          : { kind: 'runner', id: runner.id },
        outcome: 'denied',
        requestId: request.requestId,
        sourceAddress: storableAuditText(runner.sourceAddress, auditLimits.sourceAddress),
        details: {
          method: 'agent-grant',
          taskId: storableAuditText(request.taskId, 100),
          runnerId: runner.id,
          reason,
        },
      })
      .catch((error: unknown) =>
        this.context.logger.error({ err: error, runnerId: runner.id }, 'agent refusal not audited'),
      );
  }
}
