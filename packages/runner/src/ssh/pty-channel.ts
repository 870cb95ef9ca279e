import type { ServerChannel } from 'ssh2';
import { auditableFailure, auditCommandStart } from '../gateway/exec-service.js';
import type { AttachedProcess, EnvdClient, ProcessInfo } from '../providers/provider.js';
import {
  endChannel,
  failChannel,
  type ByteCounter,
  type ChannelContext,
  type ChannelExit,
} from './channel-context.js';
import { exitOf } from './exec-channel.js';
import { closeSignal, writeWithBackpressure } from './streams.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What a running terminal command takes from the session while it runs. */
export interface RunningTerminal {
  resize(size: TerminalSize): void;
  signal(signal: NodeJS.Signals): void;
}

export interface TerminalRun {
  command: string[];
  env: Record<string, string>;
  size: TerminalSize;
  term: string;
  count: ByteCounter;
  /** Called once the process runs, with the handle for window changes and signals. */
  onRunning(terminal: RunningTerminal): void;
}

/**
 * Runs a command behind a pseudo-terminal in the environment: envd keeps the process, this
 * channel attaches to it (from its first byte of output) and pipes both ways; window changes
 * resize the terminal. The process ends with the channel (`unattachedGraceMs: 0`) and has no
 * timeout: an idle shell stays as long as its client. Audited like an exec: the full command in
 * the runner's local command log, a `stage: start` record before it runs (not run when that
 * cannot be written) and a `stage: end` record with the exit code.
 */
export async function runTerminalCommand(
  context: ChannelContext,
  channel: ServerChannel,
  run: TerminalRun,
): Promise<ChannelExit | undefined> {
  const gone = closeSignal(channel);
  let envd: EnvdClient | undefined;
  try {
    envd = await context.deps.envd(context.grant.environmentId);
    const ended = await runAudited(context, envd, channel, gone, run);
    const exit = ended ? exitOf(ended) : { code: 255 };
    await endChannel(channel, gone, exit);
    return exit;
  } catch (error) {
    await failChannel(context, channel, gone, error);
    return undefined;
  } finally {
    envd?.close();
  }
}

async function runAudited(
  context: ChannelContext,
  envd: EnvdClient,
  channel: ServerChannel,
  gone: AbortSignal,
  run: TerminalRun,
): Promise<ProcessInfo | undefined> {
  const { deps, grant } = context;
  const cwd = deps.workspaceFolder(grant.environmentId);
  const record = await auditCommandStart(deps, {
    claims: grant.claims,
    environmentId: grant.environmentId,
    requestId: context.requestId,
    sourceAddress: context.sourceAddress,
    action: 'environment.exec',
    command: run.command,
    cwd,
    pty: true,
    facts: { session: context.session.id },
    nextStage: 'end',
    notDone: 'the session was not started',
  });
  const startedAt = performance.now();
  let ended: ProcessInfo | undefined;
  try {
    ended = await attachAndPipe(context, envd, channel, gone, run, cwd);
  } catch (error) {
    await record('failure', auditableFailure(error));
    throw error;
  }
  await record('success', {
    exitCode: ended?.exitCode ?? null,
    signal: ended?.signal ?? null,
    durationMs: Math.round(performance.now() - startedAt),
  });
  return ended;
}

async function attachAndPipe(
  context: ChannelContext,
  envd: EnvdClient,
  channel: ServerChannel,
  gone: AbortSignal,
  run: TerminalRun,
  cwd: string | undefined,
): Promise<ProcessInfo | undefined> {
  const { deps, grant } = context;
  const spawned = await envd.spawnProcess({
    command: run.command,
    ...(cwd !== undefined ? { cwd } : {}),
    env: { ...deps.remoteEnv(grant.environmentId), ...run.env, TERM: run.term },
    pty: { cols: run.size.cols, rows: run.size.rows, term: run.term },
    unattachedGraceMs: 0,
    labels: { kind: 'ssh', actor: grant.claims.act.id, session: context.session.id },
  });
  let attached: AttachedProcess;
  try {
    attached = await envd.attachProcess(spawned.id, {
      fromOffset: 0,
      onOutput: (chunk) => {
        run.count.out(chunk.length);
        return writeWithBackpressure(channel, chunk, gone);
      },
      signal: gone,
    });
  } catch (error) {
    await envd.signalProcess(spawned.id, 'SIGKILL').catch(() => undefined);
    throw error;
  }
  pipeInput(channel, attached, run.count, (error) =>
    context.log.debug({ err: error }, 'terminal input stopped'),
  );
  run.onRunning({
    resize: (size) => attached.resize(size.cols, size.rows),
    signal: (signal) => {
      envd.signalProcess(spawned.id, signal).catch((error: unknown) => {
        context.log.debug({ err: error }, 'signalling a terminal process failed');
      });
    },
  });
  gone.addEventListener('abort', () => attached.detach(), { once: true });
  return attached.done;
}

/** The client's keystrokes to the terminal, one chunk at a time; EOF closes its input. */
function pipeInput(
  channel: ServerChannel,
  attached: AttachedProcess,
  count: ByteCounter,
  onError: (error: unknown) => void,
): void {
  channel.on('data', (chunk: Buffer) => {
    count.in(chunk.length);
    channel.pause();
    attached.write(chunk).then(
      () => channel.resume(),
      (error: unknown) => {
        onError(error);
        channel.resume();
      },
    );
  });
  channel.on('end', () => attached.closeInput());
}
