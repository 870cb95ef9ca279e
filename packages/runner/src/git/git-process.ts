import { spawn } from 'node:child_process';

import { ErrorCode, HangarError } from '@hangar/api';

/** The unprivileged user git runs as when the runner is root. */
export interface RunAs {
  uid: number;
  gid: number;
}

/** One time limit shared by every git process of a clone, plus the caller's cancel signal. */
export interface Deadline {
  timeoutMs: number;
  expiresAtMs: number;
  signal?: AbortSignal;
}

export function createDeadline(timeoutMs: number, signal?: AbortSignal): Deadline {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new HangarError(ErrorCode.invalidRequest, `timeoutMs must be a positive number`, {
      fields: [{ field: 'timeoutMs', message: 'must be a positive number' }],
    });
  }
  const deadline: Deadline = { timeoutMs, expiresAtMs: Date.now() + timeoutMs };
  if (signal) deadline.signal = signal;
  return deadline;
}

export interface GitRunOptions {
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string>>;
  runAs?: RunAs;
  deadline: Deadline;
}

export interface GitRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

const maxStdoutBytes = 64 * 1024 * 1024;
const maxStderrBytes = 64 * 1024;

/**
 * Runs the git binary once, in its own process group, with exactly the environment given (the
 * runner's own environment is not inherited). When the deadline passes or the signal aborts,
 * the whole group (git and its remote helpers, ssh, upload-pack) is killed with SIGKILL.
 * Resolves with what git printed; rejects only when git cannot be started at all.
 */
export function runGit(options: GitRunOptions): Promise<GitRunResult> {
  const { deadline } = options;
  const remainingMs = deadline.expiresAtMs - Date.now();
  if (deadline.signal?.aborted || remainingMs <= 0) {
    return Promise.resolve({
      exitCode: null,
      stdout: '',
      stderr: '',
      timedOut: !deadline.signal?.aborted,
      aborted: deadline.signal?.aborted === true,
    });
  }

  return new Promise((resolve, reject) => {
    const child = spawn('git', [...options.args], {
      cwd: options.cwd,
      env: { ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
    });
    const stdout = new BoundedBuffer(maxStdoutBytes, 'head');
    const stderr = new BoundedBuffer(maxStderrBytes, 'tail');
    let timedOut = false;
    let aborted = false;

    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, remainingMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup();
    };
    deadline.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      deadline.signal?.removeEventListener('abort', onAbort);
    };

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle();
      reject(
        new HangarError(
          ErrorCode.internal,
          error.code === 'ENOENT'
            ? 'git is not installed on the runner host; install git and retry'
            : `git could not be started: ${error.message}`,
          { details: { reason: 'git_unavailable' }, cause: error },
        ),
      );
    });
    child.once('close', (exitCode: number | null) => {
      settle();
      if (timedOut || aborted) killGroup();
      resolve({
        exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        aborted,
      });
    });
  });
}

/** Keeps at most `limitBytes` of a stream: its beginning (`head`) or its end (`tail`). */
class BoundedBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly keep: 'head' | 'tail',
  ) {}

  push(chunk: Buffer): void {
    if (this.keep === 'head' && this.bytes >= this.limitBytes) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.keep === 'tail' && this.bytes > this.limitBytes * 2) {
      const joined = Buffer.concat(this.chunks);
      this.chunks = [joined.subarray(joined.length - this.limitBytes)];
      this.bytes = this.limitBytes;
    }
  }

  text(): string {
    const joined = Buffer.concat(this.chunks);
    const kept =
      this.keep === 'head'
        ? joined.subarray(0, this.limitBytes)
        : joined.subarray(Math.max(0, joined.length - this.limitBytes));
    return kept.toString('utf8');
  }
}
