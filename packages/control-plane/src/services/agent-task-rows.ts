import {
  finalAgentTaskStates,
  type AgentLimits,
  type AgentTask,
  type AgentTaskState,
  type AgentTool,
  type DesiredAgentTask,
  type EgressRule,
  type ModelConfig,
} from '@hangar/api';

export interface AgentTaskRow {
  id: string;
  org_id: string;
  owner_id: string;
  environment_id: string;
  runner_id: string;
  kind: string;
  desired: string;
  state: string;
  reason: string | null;
  spec: string;
  prompt_sha256: string;
  summary_sha256: string | null;
  steps: number;
  input_tokens: number;
  output_tokens: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  [key: string]: string | number | null;
}

/**
 * What the `spec` column holds: the task as asked for, with the rules resolved when it was
 * created, so a later policy change does not alter a task that already runs. Never the prompt.
 */
export interface AgentTaskSpec {
  model: ModelConfig;
  command?: DesiredAgentTask['command'];
  tools: AgentTool[];
  limits: AgentLimits;
  deniedCommandPatterns: string[];
  writablePaths: string[];
  egress: EgressRule;
}

export function taskSpecOf(row: AgentTaskRow): AgentTaskSpec {
  return JSON.parse(row.spec) as AgentTaskSpec;
}

export function stateOf(row: AgentTaskRow): AgentTaskState {
  return row.state as AgentTaskState;
}

export function isFinal(state: AgentTaskState): boolean {
  return finalAgentTaskStates.includes(state);
}

/** The order states move in: queued, then running, then one final state for good. */
export function stateRank(state: AgentTaskState): number {
  if (state === 'queued') return 0;
  return state === 'running' ? 1 : 2;
}

function isoOf(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(Number(ms)).toISOString();
}

export function toAgentTask(row: AgentTaskRow): AgentTask {
  const spec = taskSpecOf(row);
  const task: AgentTask = {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    environmentId: row.environment_id,
    runnerId: row.runner_id,
    state: stateOf(row),
    model: spec.model.model,
    kind: row.kind === 'command' ? 'command' : 'loop',
    tools: spec.tools,
    limits: spec.limits,
    steps: Number(row.steps),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    promptSha256: row.prompt_sha256,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
  if (row.reason !== null) task.reason = row.reason;
  if (row.summary_sha256 !== null) task.summarySha256 = row.summary_sha256;
  const startedAt = isoOf(row.started_at);
  if (startedAt) task.startedAt = startedAt;
  const endedAt = isoOf(row.ended_at);
  if (endedAt) task.endedAt = endedAt;
  return task;
}

/** The task as its runner receives it, rules resolved. */
export function toDesiredAgentTask(row: AgentTaskRow): DesiredAgentTask {
  const spec = taskSpecOf(row);
  const desired: DesiredAgentTask = {
    id: row.id,
    orgId: row.org_id,
    ownerId: row.owner_id,
    environmentId: row.environment_id,
    desired: row.desired === 'stop' ? 'stop' : 'run',
    promptSha256: row.prompt_sha256,
    kind: row.kind === 'command' ? 'command' : 'loop',
    model: spec.model,
    tools: spec.tools,
    limits: spec.limits,
    deniedCommandPatterns: spec.deniedCommandPatterns,
    writablePaths: spec.writablePaths,
    egress: spec.egress,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
  if (spec.command) desired.command = spec.command;
  return desired;
}
