import { appendFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { HangarError } from '@hangar/api';
import type { CommandStep, HookPlan } from '../devcontainer/index.js';
import type { EnvdClient } from '../providers/provider.js';
import { Masker } from '../secrets/masker.js';

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

/** A line longer than this is written in parts, so a command that never ends one is logged. */
const longestLine = 64 * 1024;

/**
 * Prefixes every line of one output stream with its label. A line that arrives in several
 * chunks is held until it ends, so the label starts lines only, never the middle of one.
 */
export class LabeledLines {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly label: string) {}

  /** The complete lines so far, each labelled; the rest waits for its line break. */
  push(chunk: Buffer): string {
    const text = this.partial + this.decoder.write(chunk);
    const end = text.lastIndexOf('\n') + 1;
    this.partial = text.slice(end);
    let lines = this.labelled(text.slice(0, end));
    if (this.partial.length > longestLine) {
      lines += this.labelled(`${this.partial}\n`);
      this.partial = '';
    }
    return lines;
  }

  /** The last line, ended, when the stream stopped without a line break. */
  end(): string {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest ? this.labelled(`${rest}\n`) : '';
  }

  private labelled(text: string): string {
    if (!text) return '';
    return text
      .split(/(?<=\n)/)
      .map((line) => `[${this.label}] ${line}`)
      .join('');
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
  /** Masks the environment's secret values in everything written to the lifecycle log. */
  masker?: Masker;
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
  const masker = options.masker ?? Masker.none;
  // One masker per stream, so a value split across two chunks of one stream is still masked.
  const streams = { stdout: masker.stream(), stderr: masker.stream() };
  const lines = { stdout: new LabeledLines(label), stderr: new LabeledLines(label) };
  let pending = Promise.resolve();
  const append = (text: string) => {
    if (text) pending = pending.then(() => appendFile(options.logPath, text, { mode: 0o600 }));
  };
  const write = (stream: keyof typeof streams, masked: Buffer) => {
    if (masked.length > 0) tail.push(masked);
    append(lines[stream].push(masked));
  };
  const log = (stream: keyof typeof streams) => (chunk: Buffer) =>
    write(stream, streams[stream].push(chunk));
  const header = masker.maskText(`[${label}] $ ${step.argv.join(' ')}\n`);
  await appendFile(options.logPath, header, { mode: 0o600 });
  const outcome = await options.envd.exec({
    command: step.argv,
    cwd: options.cwd,
    env: options.env,
    timeoutMs: options.timeoutMs,
    onStdout: log('stdout'),
    onStderr: log('stderr'),
    signal: options.signal,
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    write(stream, streams[stream].end());
    append(lines[stream].end());
  }
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
