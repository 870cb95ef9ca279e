import type { Condition, FileEntry, RunnerClass } from '@hangar/api';

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
}
