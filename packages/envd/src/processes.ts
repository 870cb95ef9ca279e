import { randomBytes } from 'node:crypto';
import type { EnvdConfig } from './config.js';
import { EnvdError } from './errors.js';
import { resolveCwd } from './exec.js';
import { signalGroup, signalSession } from './process-group.js';
import { checkProgram, startOnPipes, type ProcessExit, type ProcessIo } from './process-io.js';
import { FIRST_ATTACH_WINDOW_MS, type ProcessInfoBody, type SpawnRequest } from './protocol.js';
import { startOnPty } from './pty.js';
import { OutputRing } from './ring-buffer.js';

/** Output a running process keeps for clients that attach later. */
export const OUTPUT_BUFFER_BYTES = 1024 * 1024;
/** The tail of its output an exited process keeps. */
export const EXITED_TAIL_BYTES = 256 * 1024;
/** Exited processes kept for `listProcesses`, `wait` and `attach`; older ones are forgotten. */
export const EXITED_KEPT = 50;
/** Processes that may run under envd at once; a spawn beyond is refused. */
export const MAX_RUNNING = 128;

const DEFAULT_TERM = 'xterm-256color';

/** A connection attached to a process: told when output is added and when the process exits. */
export interface ProcessClient {
  onOutput(): void;
  onExit(info: ProcessInfoBody): void;
}

function newProcessId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  let id = '';
  for (const byte of randomBytes(16)) id += alphabet[byte % alphabet.length];
  return `prc_${id}`;
}

/**
 * One command envd runs on its own. It outlives the connection that started it; its output goes
 * to a bounded ring that attached clients read from at their own pace. While any attached client
 * is behind, reading the command's output pauses (so a fast producer waits for the slowest
 * attached reader); with none attached the ring simply drops its oldest bytes.
 */
export class ManagedProcess {
  readonly id = newProcessId();
  readonly output = new OutputRing(OUTPUT_BUFFER_BYTES);
  private readonly startedAt = new Date();
  private readonly clients = new Set<ProcessClient>();
  private readonly exitWaiters = new Set<(info: ProcessInfoBody) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unattachedTimer: NodeJS.Timeout | undefined;
  private everAttached = false;
  private holds = 0;
  private exit: ProcessExit | undefined;
  private endedAt: Date | undefined;
  private timedOut = false;
  private killing = false;

  constructor(
    readonly request: SpawnRequest,
    private readonly io: ProcessIo,
    private readonly config: EnvdConfig,
    private readonly onExited: (process: ManagedProcess) => void,
  ) {
    io.onOutput((stream, chunk) => {
      this.output.append(stream, chunk);
      for (const client of this.clients) client.onOutput();
    });
    io.onEnd((exit) => this.finish(exit));
    if (request.timeoutMs !== undefined) {
      this.later(request.timeoutMs, () => {
        this.timedOut = true;
        this.end('SIGTERM');
      });
    }
    this.armUnattachedTimer();
  }

  get exited(): boolean {
    return this.exit !== undefined;
  }

  info(): ProcessInfoBody {
    return {
      id: this.id,
      command: this.request.command,
      pty: this.io.pty,
      pid: this.io.pid,
      startedAt: this.startedAt.toISOString(),
      state: this.exit ? 'exited' : 'running',
      exitCode: this.exit?.code ?? null,
      signal: this.exit?.signal ?? null,
      timedOut: this.timedOut,
      endedAt: this.endedAt?.toISOString() ?? null,
      outputBytes: this.output.endOffset,
      labels: this.request.labels ?? {},
    };
  }

  /** Adds an attached client; the returned function detaches it. */
  attach(client: ProcessClient): () => void {
    this.clients.add(client);
    this.everAttached = true;
    clearTimeout(this.unattachedTimer);
    return () => {
      if (!this.clients.delete(client)) return;
      this.armUnattachedTimer();
      this.keepTailWhenIdle();
    };
  }

  /** Calls `waiter` once the process has exited (at once when it has). */
  whenExited(waiter: (info: ProcessInfoBody) => void): () => void {
    if (this.exit) {
      waiter(this.info());
      return () => undefined;
    }
    this.exitWaiters.add(waiter);
    return () => this.exitWaiters.delete(waiter);
  }

  /** A client is behind: output stops being read until every hold is released. */
  hold(): void {
    this.holds += 1;
    if (this.holds === 1 && !this.exit) this.io.pause();
  }

  release(): void {
    if (this.holds === 0) return;
    this.holds -= 1;
    if (this.holds === 0 && !this.exit) this.io.resume();
  }

  writeInput(data: Buffer): boolean {
    return this.exit ? true : this.io.writeInput(data);
  }

  onInputDrain(handler: () => void): void {
    if (this.exit) handler();
    else this.io.onInputDrain(handler);
  }

  closeInput(): void {
    if (!this.exit) this.io.closeInput();
  }

  resize(cols: number, rows: number): void {
    if (!this.exit) this.io.resize(cols, rows);
  }

  /** Sends `signal` to the process's group. */
  signal(signal: NodeJS.Signals): void {
    if (this.exit) {
      throw new EnvdError('conflict', `process ${this.id} has already exited`);
    }
    signalGroup(this.io.pid, signal);
  }

  /** Ends the whole session at once (envd is shutting down). */
  kill(): void {
    if (!this.exit) signalSession(this.io.pid, 'SIGKILL');
  }

  /** `signal` to the session, then SIGKILL after envd's grace if it is still running. */
  private end(signal: NodeJS.Signals): void {
    if (this.exit) return;
    this.killing = true;
    signalSession(this.io.pid, signal);
    this.later(this.config.killGraceMs, () => signalSession(this.io.pid, 'SIGKILL'));
  }

  private armUnattachedTimer(): void {
    const grace = this.request.unattachedGraceMs;
    if (grace === undefined || this.exit || this.clients.size > 0) return;
    const delayMs = this.everAttached ? grace : Math.max(grace, FIRST_ATTACH_WINDOW_MS);
    clearTimeout(this.unattachedTimer);
    this.unattachedTimer = setTimeout(() => this.end('SIGHUP'), delayMs);
  }

  private later(delayMs: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, delayMs);
    this.timers.add(timer);
  }

  private finish(exit: ProcessExit): void {
    if (this.exit) return;
    this.exit = exit;
    this.endedAt = new Date();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.unattachedTimer);
    if (this.killing) signalSession(this.io.pid, 'SIGKILL');
    const info = this.info();
    for (const waiter of this.exitWaiters) waiter(info);
    this.exitWaiters.clear();
    for (const client of [...this.clients]) client.onExit(info);
    this.keepTailWhenIdle();
    this.onExited(this);
  }

  /** Once exited and no client is still reading, only the tail of the output is kept. */
  private keepTailWhenIdle(): void {
    if (this.exit && this.clients.size === 0) this.output.shrink(EXITED_TAIL_BYTES);
  }
}

/** Every process envd runs for clients: those running and the last {@link EXITED_KEPT} exited. */
export class ProcessTable {
  private readonly running = new Map<string, ManagedProcess>();
  private readonly exited = new Map<string, ManagedProcess>();

  constructor(private readonly config: EnvdConfig) {}

  spawn(request: SpawnRequest): ManagedProcess {
    if (this.running.size >= MAX_RUNNING) {
      throw new EnvdError(
        'conflict',
        `${MAX_RUNNING} processes already run under envd; wait for or signal some first`,
      );
    }
    const cwd = resolveCwd(request.cwd, this.config);
    const env = { ...this.config.env, ...request.env };
    const command = request.command as [string, ...string[]];
    checkProgram(command[0], cwd, env);
    const start = { command, cwd, env, outputQuietMs: this.config.outputQuietMs };
    const io = request.pty
      ? startOnPty({ ...start, ...request.pty, term: request.pty.term ?? DEFAULT_TERM })
      : startOnPipes(start);
    const managed = new ManagedProcess(request, io, this.config, (done) => this.retire(done));
    this.running.set(managed.id, managed);
    return managed;
  }

  /** `not_found` for an id envd does not know (never had, or forgot). */
  get(id: string): ManagedProcess {
    const managed = this.running.get(id) ?? this.exited.get(id);
    if (!managed) {
      throw new EnvdError(
        'not_found',
        `no process ${id} in this environment (envd keeps the last ${EXITED_KEPT} that exited)`,
      );
    }
    return managed;
  }

  list(): ProcessInfoBody[] {
    return [...this.running.values(), ...this.exited.values()]
      .map((managed) => managed.info())
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  closeAll(): void {
    for (const managed of this.running.values()) managed.kill();
  }

  private retire(managed: ManagedProcess): void {
    this.running.delete(managed.id);
    this.exited.set(managed.id, managed);
    for (const id of this.exited.keys()) {
      if (this.exited.size <= EXITED_KEPT) break;
      this.exited.delete(id);
    }
  }
}
