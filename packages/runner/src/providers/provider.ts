import type { Condition, FileEntry, RunnerClass } from '@hangar/api';
import type { Duplex } from 'node:stream';

/** Everything a provider needs to start one environment's sandbox. */
export interface SandboxSpec {
  environmentId: string;
  /** Host directory that persists across stop and start: the workspace volume. */
  workspaceDir: string;
  /** Where the workspace appears inside the environment, e.g. `/workspaces/my-repo`. */
  workspaceFolder: string;
  /** Limits for the environment's whole process tree. */
  class: RunnerClass;
  /** The unprivileged user that processes inside run as. */
  user: { uid: number; gid: number; name: string };
  /** devcontainer `containerEnv`, already substituted: set for every process inside. */
  containerEnv: Record<string, string>;
  /**
   * Files bound read-only into the environment, host path to path inside: secrets, kept on a
   * memory file system by the runner. The host files must stay until the sandbox stops.
   */
  memoryFiles?: Array<{ source: string; dest: string }>;
}

export interface ExecOptions {
  command: string[];
  /** Inside the environment; the workspace folder when absent. */
  cwd?: string;
  env?: Record<string, string>;
  stdin?: Buffer | AsyncIterable<Buffer>;
  /** Kills the whole process group when reached; what was printed so far is kept. */
  timeoutMs?: number;
  /**
   * Output as it arrives. While a promise one of them returned is pending, no more output is
   * read, so the command blocks once the buffers between are full (backpressure).
   */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  onStderr?: (chunk: Buffer) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
}

/** A command envd keeps running on its own: detached, or behind a pseudo-terminal. */
export interface ProcessSpawnOptions {
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Kills the whole process group when reached, attached or not. */
  timeoutMs?: number;
  /** Allocates a pseudo-terminal of this size; output is then one stream, `pty`. */
  pty?: { cols: number; rows: number; term?: string };
  /**
   * How long the process may stay with no client attached before envd kills its group. Absent:
   * never (a detached command, bounded by its timeout). 0: as soon as the last client detaches
   * (an SSH shell, which ends with its connection). Before its first attach a process always gets
   * at least 10 s. The kill is SIGHUP to its session, then SIGKILL after envd's grace (1 s).
   */
  unattachedGraceMs?: number;
  /** Short labels the runner reads back in `listProcesses` (kind, actor id); at most 16. */
  labels?: Record<string, string>;
}

export type ProcessStream = 'stdout' | 'stderr' | 'pty';

export interface ProcessInfo {
  id: string;
  command: string[];
  pty: boolean;
  pid: number;
  startedAt: string;
  state: 'running' | 'exited';
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  endedAt: string | null;
  /** Bytes of output produced so far: the offset the next output byte will have. */
  outputBytes: number;
  labels: Record<string, string>;
}

export interface AttachOptions {
  /**
   * Replay buffered output from this offset (the output envd still holds: a bounded tail). 0
   * replays everything kept; absent: only new output.
   */
  fromOffset?: number;
  /** Output as it arrives, with the offset of its first byte; a promise pauses the stream. */
  onOutput: (chunk: Buffer, stream: ProcessStream, offset: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface AttachedProcess {
  /** The offset replay actually started at (later than asked when that output was dropped). */
  readonly replayedFrom: number;
  /** To the process's stdin (or the terminal); resolves once envd took it. */
  write(data: Buffer): Promise<void>;
  /** Closes stdin (for a terminal: sends end-of-file, ^D). */
  closeInput(): void;
  resize(cols: number, rows: number): void;
  /** Leaves the process running (subject to its `unattachedGraceMs`). */
  detach(): void;
  /** Resolves when the process has exited and its output was delivered, or on detach. */
  readonly done: Promise<ProcessInfo | undefined>;
}

/** A socket listening inside the environment, read from its own network namespace. */
export interface ListeningPort {
  port: number;
  address: string;
  family: 'ipv4' | 'ipv6';
  /** True when reachable only from inside (127.0.0.1, ::1). */
  loopbackOnly: boolean;
  process: { pid: number; command: string } | null;
}

/**
 * A connection to `envd` inside one running environment. Every path is resolved inside the
 * environment's own mount namespace; a path that leaves it is refused with
 * `path_outside_environment`.
 */
export interface EnvdClient {
  ping(): Promise<void>;
  exec(options: ExecOptions): Promise<ExecOutcome>;
  readFile(path: string, options?: { maxBytes?: number }): Promise<Buffer>;
  writeFile(path: string, data: Buffer, options?: { mode?: number }): Promise<void>;
  listDir(path: string): Promise<FileEntry[]>;
  spawnProcess(options: ProcessSpawnOptions): Promise<ProcessInfo>;
  /** Running processes and the most recent exited ones (envd keeps a bounded number). */
  listProcesses(): Promise<ProcessInfo[]>;
  /** `not_found` for an unknown id. */
  attachProcess(id: string, options: AttachOptions): Promise<AttachedProcess>;
  /**
   * Signals the process's whole group. Only SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGKILL, SIGUSR1,
   * SIGUSR2, SIGSTOP, SIGCONT, SIGTSTP, SIGWINCH and SIGALRM (`invalid_request` otherwise);
   * `conflict` once the process has exited.
   */
  signalProcess(id: string, signal: NodeJS.Signals): Promise<void>;
  /** Resolves with the process's final state once it has exited. */
  waitProcess(id: string, options?: { signal?: AbortSignal }): Promise<ProcessInfo>;
  /**
   * A byte stream to `host:port` dialled from inside the environment's network namespace; `host`
   * is 127.0.0.1 when absent and must be loopback, `localhost` or the environment's host name.
   * Rejects with `port_closed` when nothing listens there. Ending the stream half-closes the
   * connection. Read it with events or `pipeline`: `for await` destroys it when the server ends,
   * which also cuts off what is still being written.
   */
  connectTcp(port: number, host?: string): Promise<Duplex>;
  listPorts(): Promise<ListeningPort[]>;
  close(): void;
}

export type SandboxState = 'running' | 'stopped';

/**
 * Side effects of running environments, behind one interface so the reconcile loop can be tested
 * against an in-memory provider. Every method is idempotent.
 */
export interface Provider {
  readonly name: string;
  /** Fails with a message naming the missing piece (bubblewrap, cgroups) when not usable. */
  check(): Promise<Condition[]>;
  /** Starts the sandbox unless it already runs; returns the conditions it started under. */
  start(spec: SandboxSpec): Promise<{ conditions: Condition[] }>;
  state(environmentId: string): Promise<SandboxState>;
  /** Ends every process of the environment; keeps the workspace volume. */
  stop(environmentId: string): Promise<void>;
  /** Stops, then removes every trace on the host except the volume the caller removes. */
  remove(environmentId: string): Promise<void>;
  connect(environmentId: string): Promise<EnvdClient>;
  /**
   * The host path of the unix socket where the runner's egress proxy for the environment must
   * listen, which the sandbox reaches; absent: the provider has no egress (in-memory tests).
   */
  egressSocketPath?(environmentId: string): string;
}
