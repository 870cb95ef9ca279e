import type { Condition, EnvironmentStatus, Phase, Step } from '@hangar/api';

/** Builds the next status from the last one; the phase time moves only when the phase does. */
export function nextStatus(
  previous: EnvironmentStatus | undefined,
  change: {
    phase: Phase;
    observedGeneration: number;
    conditions?: Condition[];
    steps?: Step[];
    failure?: EnvironmentStatus['failure'] | null;
    workspaceFolder?: string;
    gatewayUrl?: string;
  },
): EnvironmentStatus {
  const now = new Date().toISOString();
  const status: EnvironmentStatus = {
    phase: change.phase,
    observedGeneration: change.observedGeneration,
    conditions: change.conditions ?? previous?.conditions ?? [],
    steps: change.steps ?? previous?.steps ?? [],
    phaseChangedAt: previous?.phase === change.phase ? previous.phaseChangedAt : now,
  };
  const failure = change.failure === null ? undefined : (change.failure ?? previous?.failure);
  if (failure && change.phase === 'failed') status.failure = failure;
  const workspaceFolder = change.workspaceFolder ?? previous?.workspaceFolder;
  if (workspaceFolder) status.workspaceFolder = workspaceFolder;
  const gatewayUrl = change.gatewayUrl ?? previous?.gatewayUrl;
  if (gatewayUrl) status.gatewayUrl = gatewayUrl;
  return status;
}

/** Records a step's start or end in the list, keeping at most the last 100. */
export function withStep(steps: Step[], step: Step): Step[] {
  const others = steps.filter((item) => item.name !== step.name || item.state !== 'running');
  return [...others, step].slice(-100);
}

/** Sets one condition by type, replacing an older one of the same type. */
export function withCondition(conditions: Condition[], condition: Condition): Condition[] {
  return [...conditions.filter((item) => item.type !== condition.type), condition];
}
