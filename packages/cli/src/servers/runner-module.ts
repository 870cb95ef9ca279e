import { HangarError } from '@hangar/api';
import type { LogLevel } from './log-level.js';

/** What the CLI passes to `startRunner` of `@hangar/runner`. */
export interface RunnerStartInput {
  controlPlaneUrl: string;
  dataDir: string;
  enrollmentToken?: string;
  gatewayHost?: string;
  gatewayPort?: number;
  gatewayPublicUrl?: string;
  configFile?: string;
  stopEnvironmentsOnExit?: boolean;
  logLevel?: LogLevel;
}

export interface StartedRunner {
  runnerId: string;
  gatewayUrl: string;
  close(): Promise<void>;
}

interface Destination {
  write(message: string): unknown;
}

interface RunnerModule {
  startRunner(input: RunnerStartInput, options: { logger?: unknown }): Promise<StartedRunner>;
  createRunnerLogger(options: { level?: string; destination?: Destination }): unknown;
}

// Known gap: `@hangar/runner` does not build its entry point yet (runner.ts is excluded from its
// tsconfig while it is written), so it is loaded by a name the compiler does not follow and typed
// by the shape above. A change to startRunner's input is not caught at build time until this
// becomes a plain `import { startRunner } from '@hangar/runner'`.
const runnerPackage = '@hangar/runner';

async function loadRunnerModule(): Promise<RunnerModule> {
  let loaded: Partial<RunnerModule>;
  try {
    loaded = (await import(runnerPackage)) as Partial<RunnerModule>;
  } catch (error) {
    throw new HangarError(
      'internal',
      `the runner package cannot be loaded (${(error as Error).message}); run \`npm run build\``,
      { cause: error },
    );
  }
  if (typeof loaded.startRunner !== 'function' || typeof loaded.createRunnerLogger !== 'function') {
    throw new HangarError(
      'internal',
      'the runner package has no startRunner yet; run `npm run build` once it is complete',
    );
  }
  return loaded as RunnerModule;
}

/** Starts a runner in this process, logging to `destination` at `input.logLevel`. */
export async function startRunnerHere(
  input: RunnerStartInput,
  destination: Destination,
): Promise<StartedRunner> {
  const runner = await loadRunnerModule();
  const logger = runner.createRunnerLogger({ level: input.logLevel ?? 'info', destination });
  return runner.startRunner(input, { logger });
}
