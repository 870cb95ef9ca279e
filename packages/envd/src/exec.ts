import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { EnvdConfig } from './config.js';
import type { Connection } from './connection.js';
import { EnvdError, isErrno } from './errors.js';
import { FrameType, type ExecRequest, type ExitBody, type Frame } from './protocol.js';
import { parseCommandFields } from './requests.js';

/** Checks an `exec` request body; throws `invalid_request` naming the bad field. */
export function parseExecRequest(body: unknown): ExecRequest {
  const bad = (message: string): never => {
    throw new EnvdError('invalid_request', `exec: ${message}`);
  };
  if (typeof body !== 'object' || body === null) bad('the request must be an object');
  const raw = body as Record<string, unknown>;
  return { ...parseCommandFields(raw, bad), stdin: raw.stdin === true };
}

export function resolveCwd(cwd: string | undefined, config: EnvdConfig): string {
  const resolved = posix.resolve(config.workspaceFolder, cwd ?? '.');
  let isDirectory = false;
  try {
    isDirectory = statSync(resolved).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new EnvdError('invalid_request', `cwd ${resolved} is not a directory in the environment`);
  }
  return resolved;
}

/**
 * One command run for one connection. The command leads its own process group; a timeout, a
 * cancel or a lost client ends the whole group. Output is forwarded as it comes and reading
 * pauses while the client is behind.
 */
export class ExecSession {
  private child: ChildProcess | undefined;
  private readonly startedAt = performance.now();
  private exit: { code: number | null; signal: string | null } | undefined;
  private openStreams = 0;
  private timedOut = false;
  private finished = false;
  private timers: NodeJS.Timeout[] = [];
  private quietTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private stdinWaiting = false;

  constructor(
    private readonly conn: Connection,
    private readonly request: ExecRequest,
    private readonly config: EnvdConfig,
    private readonly onDone: () => void,
  ) {}

  start(): void {
    const cwd = resolveCwd(this.request.cwd, this.config);
    const [program, ...args] = this.request.command as [string, ...string[]];
    const child = spawn(program, args, {
      cwd,
      env: { ...this.config.env, ...this.request.env },
      stdio: [this.request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    this.conn.onFrame((frame) => this.onFrame(frame));
    this.conn.onClose(() => {
      if (this.finished) return;
      this.killGroup('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
    child.on('error', (error: unknown) => this.onSpawnError(error));
    if (child.pid === undefined) return;
    child.stdin?.on('error', () => this.conn.resumeReading());
    this.forward(child.stdout, FrameType.stdout);
    this.forward(child.stderr, FrameType.stderr);
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.armQuietTimer();
      this.maybeFinish();
    });
    if (this.request.timeoutMs !== undefined) {
      this.timers.push(setTimeout(() => this.onTimeout(), this.request.timeoutMs));
    }
  }

  /** Ends every process of the command at once (envd is shutting down). */
  kill(): void {
    this.killGroup('SIGKILL');
  }

  private onFrame(frame: Frame): void {
    const stdin = this.child?.stdin;
    // Known gap: while the command's stdin is full, the connection is not read, so a cancel sent
    // then waits; a command that never reads its input is ended by its timeout or a hang-up.
    if (frame.type === FrameType.stdin) {
      if (stdin && !stdin.destroyed && !stdin.write(frame.payload) && !this.stdinWaiting) {
        this.stdinWaiting = true;
        this.conn.pauseReading();
        stdin.once('drain', () => {
          this.stdinWaiting = false;
          this.conn.resumeReading();
        });
      }
    } else if (frame.type === FrameType.stdinEnd) {
      stdin?.end();
    } else if (frame.type === FrameType.cancel) {
      this.killGroup('SIGKILL');
    } else {
      throw new EnvdError('invalid_request', `exec: unexpected frame 0x${frame.type.toString(16)}`);
    }
  }

  private forward(stream: Readable | null, type: FrameType): void {
    if (!stream) return;
    this.openStreams += 1;
    stream.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      this.armQuietTimer();
      if (!this.conn.sendChunked(type, chunk) && !this.paused) this.pauseOutput();
    });
    stream.on('close', () => {
      this.openStreams -= 1;
      this.maybeFinish();
    });
  }

  private pauseOutput(): void {
    this.paused = true;
    this.child?.stdout?.pause();
    this.child?.stderr?.pause();
    clearTimeout(this.quietTimer);
    this.conn.onDrain(() => {
      this.paused = false;
      this.child?.stdout?.resume();
      this.child?.stderr?.resume();
      this.armQuietTimer();
    });
  }

  /**
   * Once the main process has exited, output that its background children keep open is
   * forwarded until it has been quiet for a while; then the command counts as finished. The
   * pipes stay open and are drained, so those children go on running without a SIGPIPE.
   */
  private armQuietTimer(): void {
    if (this.exit === undefined || this.paused || this.finished) return;
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.maybeFinish(true), this.config.outputQuietMs);
  }

  private onTimeout(): void {
    this.timedOut = true;
    this.killGroup('SIGTERM');
    this.timers.push(setTimeout(() => this.killGroup('SIGKILL'), this.config.killGraceMs));
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already gone, which is what was wanted.
    }
  }

  private onSpawnError(error: unknown): void {
    if (this.finished || this.child?.pid !== undefined) return;
    const program = this.request.command[0] ?? '';
    const notFound = isErrno(error, 'ENOENT');
    const reason = notFound ? 'command not found' : error instanceof Error ? error.message : '';
    this.conn.send(FrameType.stderr, Buffer.from(`envd: ${program}: ${reason}\n`));
    this.exit = { code: notFound ? 127 : 126, signal: null };
    this.maybeFinish();
  }

  private maybeFinish(quiet = false): void {
    if (this.finished || this.exit === undefined || (this.openStreams > 0 && !quiet)) return;
    this.finished = true;
    this.child?.stdout?.resume();
    this.child?.stderr?.resume();
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.quietTimer);
    if (this.timedOut) this.killGroup('SIGKILL');
    const body: ExitBody = {
      exitCode: this.exit.code,
      signal: this.exit.signal,
      timedOut: this.timedOut,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
    };
    this.conn.sendJson(FrameType.exit, body);
    this.conn.end();
    this.onDone();
  }
}
