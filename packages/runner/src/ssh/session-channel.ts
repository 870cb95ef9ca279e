import type { PseudoTtyInfo, ServerChannel, Session } from 'ssh2';
import type { SessionHandle } from '../sessions/registry.js';
import { counterFor, type ChannelContext, type ChannelExit } from './channel-context.js';
import {
  execCommand,
  isAcceptedEnv,
  sftpCommand,
  shellCommand,
  signalFromSsh,
} from './commands.js';
import { runPipedCommand } from './exec-channel.js';
import { runTerminalCommand, type RunningTerminal, type TerminalSize } from './pty-channel.js';

/** The longest command an `exec` request may carry (OpenSSH's own packets stop at 256 KiB). */
export const maxCommandBytes = 128 * 1024;
const maxTerminalSide = 10_000;

type Program = { kind: 'shell' } | { kind: 'exec'; command: string } | { kind: 'sftp' };

function sizeOf(info: { cols: number; rows: number }): TerminalSize | undefined {
  const fits = (value: number) => Number.isInteger(value) && value >= 0 && value <= maxTerminalSide;
  if (!fits(info.cols) || !fits(info.rows)) return undefined;
  return { cols: info.cols || 80, rows: info.rows || 24 };
}

function termOf(info: PseudoTtyInfo): string {
  return /^[A-Za-z0-9._+-]{1,64}$/.test(info.term) ? info.term : 'xterm';
}

/**
 * One `session` channel as OpenSSH uses it: `env` and `pty-req` first, then exactly one of
 * `shell`, `exec` or `subsystem sftp`, then `window-change` and `signal` while it runs. Agent
 * and X11 forwarding are refused, as is every other subsystem.
 */
export function serveSession(context: ChannelContext, session: Session): void {
  const env: Record<string, string> = {};
  let terminal: { size: TerminalSize; term: string } | undefined;
  let running: RunningTerminal | undefined;
  let started = false;

  session.on('env', (accept, reject, info) => {
    const accepted = !started && isAcceptedEnv(info.key, info.val);
    if (accepted) env[info.key] = info.val;
    else context.log.debug({ name: info.key.slice(0, 64) }, 'ssh env variable refused');
    (accepted ? accept : reject)?.();
  });
  session.on('pty', (accept, reject, info) => {
    const size = sizeOf(info);
    if (started || !size) return reject?.();
    terminal = { size, term: termOf(info) };
    accept?.();
  });
  session.on('window-change', (accept, reject, info) => {
    const size = sizeOf(info);
    if (!terminal || !size) return reject?.();
    terminal.size = size;
    running?.resize(size);
    accept?.();
  });
  session.on('signal', (accept, reject, info) => {
    const signal = signalFromSsh(info.name);
    if (!running || !signal) return reject?.();
    running.signal(signal);
    accept?.();
  });
  session.on('x11', (_accept, reject) => reject?.());
  session.on('auth-agent', (_accept, reject) => reject?.());

  const start = (
    accept: () => ServerChannel,
    reject: (() => void) | undefined,
    program: Program,
  ) => {
    if (started) return reject?.();
    started = true;
    context.deps.activity.touch(context.grant.environmentId);
    const channel = accept();
    void runProgram(context, channel, program, env, terminal, (handle) => (running = handle));
  };
  session.on('shell', (accept, reject) => start(accept, reject, { kind: 'shell' }));
  session.on('exec', (accept, reject, info) => {
    if (Buffer.byteLength(info.command) > maxCommandBytes) return reject?.();
    start(accept, reject, { kind: 'exec', command: info.command });
  });
  session.on('subsystem', (accept, reject, info) => {
    if (info.name !== 'sftp') {
      context.log.debug({ subsystem: info.name.slice(0, 64) }, 'ssh subsystem refused');
      return reject?.();
    }
    start(accept, reject, { kind: 'sftp' });
  });
}

async function runProgram(
  context: ChannelContext,
  channel: ServerChannel,
  program: Program,
  env: Record<string, string>,
  terminal: { size: TerminalSize; term: string } | undefined,
  onRunning: (terminal: RunningTerminal) => void,
): Promise<void> {
  if (program.kind === 'sftp') return runSftp(context, channel, env);
  const command = program.kind === 'shell' ? shellCommand() : execCommand(program.command);
  const count = counterFor([context.session]);
  if (!terminal) {
    await runPipedCommand(context, channel, { command, env, count });
    return;
  }
  await runTerminalCommand(context, channel, { command, env, ...terminal, count, onRunning });
}

/**
 * OpenSSH's `sftp-server` in the environment, on the channel's raw bytes: a session of its own
 * (kind `sftp`, audited at start and end), its bytes counted there and in the connection's.
 */
async function runSftp(
  context: ChannelContext,
  channel: ServerChannel,
  env: Record<string, string>,
): Promise<void> {
  const { deps, grant } = context;
  let transfer: SessionHandle;
  try {
    transfer = await deps.sessions.open({
      kind: 'sftp',
      environmentId: grant.environmentId,
      actor: grant.claims.act,
      grant: grant.claims.jti,
      requestId: context.requestId,
      sourceAddress: context.sourceAddress,
      details: { connection: context.session.id },
      close: () => channel.close(),
    });
  } catch (error) {
    context.log.error({ err: error }, 'an sftp session could not be audited; refused');
    channel.close();
    return;
  }
  let exit: ChannelExit | undefined;
  try {
    const count = counterFor([context.session, transfer]);
    exit = await runPipedCommand(context, channel, { command: sftpCommand(), env, count });
  } finally {
    if (!exit) await transfer.end('failure', 'sftp-server could not run');
    else
      await transfer.end('success', 'code' in exit ? `exit ${exit.code}` : `signal ${exit.signal}`);
  }
}
