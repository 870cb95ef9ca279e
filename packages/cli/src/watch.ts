import type { DesiredPhase, Environment, Runner } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { formatDurationMs } from './durations.js';
import type { HttpClient } from './http-client.js';

export type WatchOutcome = 'reached' | 'failed' | 'deleted' | 'superseded';

export interface WatchResult {
  environment: Environment;
  outcome: WatchOutcome;
}

export interface WatchOptions {
  target: DesiredPhase;
  /**
   * Server time of the request that started the wait: a `failed` status from before it, not
   * yet observed for the current spec, is the past and does not end the wait.
   */
  sinceTime: string;
  /** One line of progress, for stderr. */
  report: (line: string) => void;
  /** How long one long poll may wait on the control plane. */
  pollWaitMs?: number;
  /** How long to keep retrying while the control plane cannot be reached. */
  reconnectForMs?: number;
  /** Print the starting state too (default); otherwise only what changes after it. */
  showStart?: boolean;
}

const settledPhases = new Set(['running', 'stopped', 'deleted', 'failed']);

/** Prints each phase change, lifecycle step and condition once, as statuses arrive. */
export class ProgressPrinter {
  private phase: string | undefined;
  private readonly steps = new Map<string, string>();
  private readonly conditions = new Map<string, string>();

  constructor(private readonly report: (line: string) => void) {}

  /** Prints what changed since the last call; with `silent`, only takes it in. */
  show(environment: Environment, options: { silent?: boolean } = {}): void {
    const lines: string[] = [];
    const { status } = environment;
    const phaseChanged = status.phase !== this.phase;
    this.phase = status.phase;
    const phaseLine = `${environment.name}: ${status.phase}`;
    const settled = settledPhases.has(status.phase);
    if (phaseChanged && !settled) lines.push(phaseLine);
    for (const step of status.steps) {
      const key = `${step.name}@${step.startedAt}`;
      if (this.steps.get(key) === step.state) continue;
      this.steps.set(key, step.state);
      lines.push(`  step ${step.name}: ${stepText(step)}`);
    }
    for (const condition of status.conditions) {
      const value = `${condition.status} ${condition.reason} ${condition.message}`;
      if (this.conditions.get(condition.type) === value) continue;
      this.conditions.set(condition.type, value);
      lines.push(`  condition ${condition.type}=${condition.status}: ${condition.message}`);
    }
    if (phaseChanged && settled) lines.push(phaseLine);
    if (!options.silent) for (const line of lines) this.report(line);
  }
}

function stepText(step: Environment['status']['steps'][number]): string {
  const tookMs =
    step.finishedAt !== undefined ? Date.parse(step.finishedAt) - Date.parse(step.startedAt) : NaN;
  const took = Number.isFinite(tookMs) ? ` (${formatDurationMs(tookMs)})` : '';
  const exit =
    step.exitCode !== undefined && step.state === 'failed' ? `, exit code ${step.exitCode}` : '';
  return `${step.state}${exit}${took}`;
}

/** Whether the environment has settled for this wait, and how. */
export function settledOutcome(
  environment: Environment,
  options: Pick<WatchOptions, 'target' | 'sinceTime'>,
): WatchOutcome | undefined {
  const { status, generation, spec } = environment;
  const current = status.observedGeneration >= generation;
  if (status.phase === options.target && current) return 'reached';
  if (status.phase === 'deleted' && options.target !== 'deleted') return 'deleted';
  if (
    status.phase === 'failed' &&
    (current || Date.parse(status.phaseChangedAt) >= Date.parse(options.sinceTime))
  ) {
    return 'failed';
  }
  if (spec.desiredPhase !== options.target) return 'superseded';
  return undefined;
}

function isUnreachable(error: unknown): boolean {
  return error instanceof HangarError && error.details?.unreachable === true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Says so when nothing happens because the environment's runner is not connected. */
async function reportOfflineRunner(
  api: HttpClient,
  environment: Environment,
  report: (line: string) => void,
): Promise<void> {
  const runner = await api
    .get<Runner>(`/v1/runners/${encodeURIComponent(environment.runnerId)}`)
    .catch(() => undefined);
  if (!runner || runner.state === 'online') return;
  const seen = runner.lastSeenAt ? `last seen ${runner.lastSeenAt}` : 'never seen';
  report(
    `runner ${runner.name} (${runner.id}) is ${runner.state}, ${seen}: the environment changes ` +
      'when it reconnects; start the runner, or stop waiting with Ctrl-C (the request stands)',
  );
}

/**
 * Long-polls `GET /v1/environments/:id?afterVersion=N` until the environment reaches `target`,
 * fails, is deleted, or is asked for another phase. While the control plane cannot be reached
 * it retries with a doubling delay (0.5 s up to 5 s) for `reconnectForMs`.
 */
export async function watchEnvironment(
  api: HttpClient,
  start: Environment,
  options: WatchOptions,
): Promise<WatchResult> {
  const printer = new ProgressPrinter(options.report);
  const reconnectForMs = options.reconnectForMs ?? 60000;
  let environment = start;
  printer.show(environment, { silent: options.showStart === false });
  let lostSince: number | undefined;
  let delayMs = 500;
  let runnerCheckedAt = 0;
  for (;;) {
    const outcome = settledOutcome(environment, options);
    if (outcome) return { environment, outcome };
    const before = environment.statusVersion;
    try {
      environment = await api.get<Environment>(
        `/v1/environments/${encodeURIComponent(environment.id)}`,
        { afterVersion: environment.statusVersion, waitMs: options.pollWaitMs ?? 10000 },
      );
      if (environment.statusVersion === before && Date.now() - runnerCheckedAt > 60000) {
        runnerCheckedAt = Date.now();
        await reportOfflineRunner(api, environment, options.report);
      }
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      lostSince ??= Date.now();
      if (Date.now() - lostSince > reconnectForMs) throw error;
      if (delayMs === 500) options.report('lost the control plane; retrying');
      await sleep(delayMs);
      delayMs = Math.min(5000, delayMs * 2);
      continue;
    }
    if (lostSince !== undefined) options.report('reconnected to the control plane');
    lostSince = undefined;
    delayMs = 500;
    printer.show(environment);
  }
}
