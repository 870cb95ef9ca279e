/** Every phase an environment's status can be in, in lifecycle order, then `failed`. */
export const phases = [
  'creating',
  'starting',
  'running',
  'stopping',
  'stopped',
  'deleting',
  'deleted',
  'failed',
] as const;

export type Phase = (typeof phases)[number];

/** What the owner asks for; only the API writes it. */
export const desiredPhases = ['running', 'stopped', 'deleted'] as const;

export type DesiredPhase = (typeof desiredPhases)[number];

/** Phases in which the runner is still working towards the desired phase. */
export const transitionalPhases: readonly Phase[] = [
  'creating',
  'starting',
  'stopping',
  'deleting',
];

export function isTransitional(phase: Phase): boolean {
  return transitionalPhases.includes(phase);
}

/** The phase an environment settles in once it reaches its desired phase. */
export function settledPhaseOf(desired: DesiredPhase): Phase {
  return desired;
}
