import { HangarError, type Condition, type FileEntry } from '@hangar/api';
import type {
  EnvdClient,
  ExecOptions,
  ExecOutcome,
  Provider,
  SandboxSpec,
  SandboxState,
} from './provider.js';

export interface RecordedExec {
  environmentId: string;
  command: string[];
  cwd: string | undefined;
}

/**
 * A provider that keeps its sandboxes in memory and runs nothing, for testing the reconcile loop.
 * `respond` decides each command's outcome and output; by default every command exits 0.
 */
/** The in-memory provider runs no real processes, so it has none to spawn, attach or dial. */
const unsupported = (): Promise<never> =>
  Promise.reject(new HangarError('invalid_request', 'the memory provider runs no processes'));

export class MemoryProvider implements Provider {
  readonly name = 'memory';
  readonly running = new Map<string, SandboxSpec>();
  readonly execs: RecordedExec[] = [];
  readonly starts: string[] = [];
  readonly removed: string[] = [];

  constructor(
    private readonly respond: (exec: RecordedExec) => {
      exitCode: number;
      output?: string;
    } = () => ({
      exitCode: 0,
    }),
  ) {}

  async check(): Promise<Condition[]> {
    return [];
  }

  async start(spec: SandboxSpec): Promise<{ conditions: Condition[] }> {
    if (!this.running.has(spec.environmentId)) {
      this.starts.push(spec.environmentId);
      this.running.set(spec.environmentId, spec);
    }
    return {
      conditions: [
        { type: 'LimitsEnforced', status: 'false', reason: 'MemoryProvider', message: 'in memory' },
      ],
    };
  }

  async state(environmentId: string): Promise<SandboxState> {
    return this.running.has(environmentId) ? 'running' : 'stopped';
  }

  async stop(environmentId: string): Promise<void> {
    this.running.delete(environmentId);
  }

  async remove(environmentId: string): Promise<void> {
    this.running.delete(environmentId);
    this.removed.push(environmentId);
  }

  async connect(environmentId: string): Promise<EnvdClient> {
    if (!this.running.has(environmentId)) throw new Error(`${environmentId} is not running`);
    const exec = async (options: ExecOptions): Promise<ExecOutcome> => {
      const recorded = { environmentId, command: options.command, cwd: options.cwd };
      this.execs.push(recorded);
      const { exitCode, output } = this.respond(recorded);
      if (output) await options.onStdout?.(Buffer.from(output));
      return { exitCode, signal: null, timedOut: false, durationMs: 1 };
    };
    return {
      ping: async () => undefined,
      exec,
      readFile: async () => Buffer.alloc(0),
      writeFile: async () => undefined,
      listDir: async (): Promise<FileEntry[]> => [],
      spawnProcess: unsupported,
      listProcesses: async () => [],
      attachProcess: unsupported,
      signalProcess: unsupported,
      waitProcess: unsupported,
      connectTcp: unsupported,
      listPorts: async () => [],
      close: () => undefined,
    };
  }
}
