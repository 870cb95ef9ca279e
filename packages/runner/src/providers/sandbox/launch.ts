import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import type { Stream } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { HangarError } from '@hangar/api';
import { createEnvdClient, type EnvdAuth } from './envd-socket-client.js';
import { isSameProcessAlive, procStat } from './processes.js';

/**
 * The keeper: a shell that first writes its own pid into every cgroup of the environment (so all
 * it starts is inside them from the first instruction), then runs bwrap, through setpriv when the
 * runner is root, and waits for it. It runs in its own session, so it outlives the runner; bwrap's
 * `--die-with-parent` ties the sandbox to the keeper, so killing the keeper ends everything.
 */
const keeperScript = [
  'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do',
  '  echo $$ > "$1" || { echo "hangar: cannot join cgroup $1" >&2; exit 125; }',
  '  shift',
  'done',
  'shift',
  '"$@"',
  'status=$?',
  'echo "hangar: the sandbox exited with status $status" >&2',
  'exit $status',
].join('\n');

export interface KeeperOptions {
  procsFiles: string[];
  /** Opened for reading as descriptor 3 of the keeper (bwrap's `--args 3`). */
  argsPath: string;
  /** bwrap and its arguments, behind setpriv when the runner is root. */
  command: string[];
  logPath: string;
}

export interface Keeper {
  pid: number;
  startTicks: string;
  /** Settles once the log writer has written everything the sandbox printed (it has ended). */
  logFlushed: Promise<void>;
}

/** How much of the sandbox's output the log keeps; the rest is read and dropped. */
export const SANDBOX_LOG_MAX_BYTES = 1024 * 1024;

/**
 * The log writer, a root process outside the sandbox: it copies the first bytes of what the
 * sandbox prints into the log, then reads and drops the rest until every writer has gone.
 */
const logWriterScript = 'head -c "$1"; exec cat >/dev/null';

const closeOnExec = 0o2000000;

/**
 * Descriptors of this process that a child would inherit: not close-on-exec and above stderr.
 * Node opens its own with close-on-exec, so these came from whoever started the runner; one that
 * named a host directory would let a process in the sandbox walk out of its mounts.
 */
export function inheritableFds(): number[] {
  const fds: number[] = [];
  for (const name of readdirSync('/proc/self/fdinfo')) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    try {
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (flags?.[1] !== undefined && (parseInt(flags[1], 8) & closeOnExec) === 0) fds.push(fd);
    } catch {
      continue;
    }
  }
  return fds;
}

/**
 * The keeper's descriptors: /dev/null on 0, the log writer's pipe on 1 and 2, bwrap's options on
 * 3, and /dev/null over every other descriptor it would otherwise inherit.
 */
function keeperStdio(
  logPipe: Stream,
  argsFd: number,
  nullFd: number,
): Array<number | 'ignore' | Stream> {
  const stdio: Array<number | 'ignore' | Stream> = ['ignore', logPipe, logPipe, argsFd];
  for (const fd of inheritableFds()) {
    if (fd <= 3) continue;
    while (stdio.length < fd) stdio.push('ignore');
    stdio[fd] = nullFd;
  }
  return stdio;
}

// Known gap: an unprivileged runner (no cgroups) killed between this launch and the record
// naming the keeper leaves a sandbox nobody tracks; with cgroups, the next start or remove
// empties them and so ends it.
export function launchKeeper(options: KeeperOptions): Keeper {
  // bwrap, its init (pid 1 inside) and envd hold the sandbox's stdout and stderr, and a process
  // inside can take a copy of those descriptors (pidfd_getfd) and write there. So they are the
  // log writer's pipe, never the log file itself: whatever is written, the log stays capped.
  const logFd = openSync(options.logPath, 'w', 0o600);
  const argsFd = openSync(options.argsPath, 'r');
  const nullFd = openSync('/dev/null', 'r');
  let writer: ChildProcess | undefined;
  try {
    writer = spawn(
      '/bin/sh',
      ['-c', logWriterScript, 'hangar-log', String(SANDBOX_LOG_MAX_BYTES)],
      {
        detached: true,
        stdio: ['pipe', logFd, 'ignore'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      },
    );
    const running = writer;
    const logFlushed = new Promise<void>((resolve) => {
      running.once('close', () => resolve());
      running.once('error', () => resolve());
    });
    if (!running.stdin) throw new HangarError('internal', "the sandbox's log writer has no input");
    const child = spawn(
      '/bin/sh',
      ['-c', keeperScript, 'hangar-keeper', ...options.procsFiles, '--', ...options.command],
      {
        detached: true,
        stdio: keeperStdio(running.stdin, argsFd, nullFd),
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      },
    );
    child.on('error', () => undefined);
    child.unref();
    const pid = child.pid;
    const stat = pid === undefined ? undefined : procStat(pid);
    if (pid === undefined || stat === undefined) {
      throw new HangarError(
        'internal',
        `the sandbox's keeper shell did not start; see ${options.logPath}`,
      );
    }
    return { pid, startTicks: stat.startTicks, logFlushed };
  } finally {
    writer?.stdin?.destroy();
    writer?.unref();
    closeSync(logFd);
    closeSync(argsFd);
    closeSync(nullFd);
  }
}

export function logTail(logPath: string, maxChars = 1500): string {
  try {
    const text = readFileSync(logPath, 'utf8').trim();
    return text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
  } catch {
    return '';
  }
}

/** Resolves once envd answers a ping; fails early, with bwrap's words, if the sandbox exits. */
export async function waitForEnvd(options: {
  keeper: Keeper;
  socketPath: string;
  auth: EnvdAuth;
  logPath: string;
  timeoutMs: number;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const client = createEnvdClient({
    socketPath: options.socketPath,
    auth: options.auth,
    timeoutMs: options.timeoutMs,
  });
  try {
    for (let attempt = 0; ; attempt += 1) {
      if (!isSameProcessAlive(options.keeper.pid, options.keeper.startTicks)) {
        await Promise.race([options.keeper.logFlushed, sleep(1000)]);
        throw new HangarError(
          'internal',
          `the sandbox exited while starting: ${logTail(options.logPath) || 'no output'}`,
        );
      }
      try {
        await client.ping();
        return;
      } catch (error: unknown) {
        if (!(error instanceof HangarError) || error.code !== 'environment_not_running')
          throw error;
      }
      if (Date.now() > deadline) {
        throw new HangarError(
          'internal',
          `envd did not answer within ${options.timeoutMs} ms of the sandbox starting: ` +
            (logTail(options.logPath) || 'no output'),
        );
      }
      await sleep(attempt < 50 ? 2 : 20);
    }
  } finally {
    client.close();
  }
}
