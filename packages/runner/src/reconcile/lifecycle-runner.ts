import { appendFile } from 'node:fs/promises';
import { HangarError } from '@hangar/api';
import type { CommandStep, HookPlan } from '../devcontainer/index.js';
import type { EnvdClient } from '../providers/provider.js';

const tailLines = 20;

/** Keeps the last lines a command printed, for the failure report. */
class OutputTail {
  private text = '';

  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-16384);
  }

  lines(): string[] {
    return this.text.replace(/\n$/, '').split('\n').slice(-tailLines);
  }
}

export interface HookRunOptions {
  envd: EnvdClient;
  plan: HookPlan;
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Runs one lifecycle hook inside the environment: its steps one by one, or all at once for the
 * object form. Output goes to the lifecycle log on the runner, each line prefixed with the hook
 * (and entry) name; it never leaves the runner. A failing step fails the hook with its name and
 * exit code; the last lines it printed stay in the log, which the gateway serves to the owner.
 */
export async function runHook(options: HookRunOptions): Promise<void> {
  const { plan } = options;
  const run = (step: CommandStep, index: number) => runStep(options, step, index);
  if (plan.parallel) {
    const results = await Promise.allSettled(plan.steps.map(run));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  } else {
    for (const [index, step] of plan.steps.entries()) await run(step, index);
  }
}

async function runStep(options: HookRunOptions, step: CommandStep, index: number): Promise<void> {
  const label = step.name === undefined ? options.plan.hook : `${options.plan.hook}:${step.name}`;
  // Entry names are repository content: the control plane hears of an entry by its position.
  const publicStep =
    step.name === undefined ? options.plan.hook : `${options.plan.hook}#${index + 1}`;
  const tail = new OutputTail();
  let pending = Promise.resolve();
  const log = (chunk: Buffer) => {
    tail.push(chunk);
    const text = chunk
      .toString('utf8')
      .split(/(?<=\n)/)
      .map((line) => `[${label}] ${line}`)
      .join('');
    pending = pending.then(() => appendFile(options.logPath, text, { mode: 0o600 }));
  };
  await appendFile(options.logPath, `[${label}] $ ${step.argv.join(' ')}\n`, { mode: 0o600 });
  const outcome = await options.envd.exec({
    command: step.argv,
    cwd: options.cwd,
    env: options.env,
    timeoutMs: options.timeoutMs,
    onStdout: log,
    onStderr: log,
    signal: options.signal,
  });
  await pending;
  const ending = outcome.timedOut
    ? `timed out after ${options.timeoutMs} ms`
    : outcome.exitCode !== null
      ? `exited with code ${outcome.exitCode}`
      : `was killed by ${outcome.signal ?? 'a signal'}`;
  await appendFile(options.logPath, `[${label}] ${ending}\n`, { mode: 0o600 });
  if (outcome.exitCode === 0) return;
  throw new HangarError('internal', `${label} ${ending}`, {
    details: {
      reason: 'LifecycleCommandFailed',
      step: publicStep,
      exitCode: outcome.exitCode ?? -1,
      lastLines: tail.lines().join('\n'),
    },
  });
}
