import type { DesiredPhase, Phase } from '@hangar/api';

export type Operation = 'start' | 'stop' | 'delete';

export type TransitionDecision =
  | { kind: 'apply'; desired: DesiredPhase }
  | { kind: 'noop' }
  | { kind: 'conflict'; inProgress: string };

/** What the runner is busy doing, if the environment has not settled in its desired phase. */
export function operationInProgress(desired: DesiredPhase, phase: Phase): string | null {
  if (phase === desired || phase === 'failed') return null;
  if (desired === 'running') return phase === 'creating' ? 'create' : 'start';
  if (desired === 'stopped') return 'stop';
  return 'delete';
}

/**
 * Decides what one request does to an environment. A repeated request is a no-op; a request that
 * contradicts an operation still in progress is a conflict; delete is accepted from every phase.
 */
export function decideTransition(
  operation: Operation,
  desired: DesiredPhase,
  phase: Phase,
): TransitionDecision {
  const inProgress = operationInProgress(desired, phase);
  if (operation === 'delete') {
    if (desired === 'deleted' && phase !== 'failed') return { kind: 'noop' };
    return { kind: 'apply', desired: 'deleted' };
  }
  if (desired === 'deleted') return { kind: 'conflict', inProgress: 'delete' };
  if (operation === 'stop') {
    if (desired === 'stopped') return { kind: 'noop' };
    if (inProgress) return { kind: 'conflict', inProgress };
    return { kind: 'apply', desired: 'stopped' };
  }
  if (desired === 'running') {
    return phase === 'failed' ? { kind: 'apply', desired: 'running' } : { kind: 'noop' };
  }
  if (inProgress) return { kind: 'conflict', inProgress };
  return { kind: 'apply', desired: 'running' };
}
