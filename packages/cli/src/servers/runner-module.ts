import { createRunnerLogger, startRunner } from '@hangar/runner';
import type { LogLevel } from './log-level.js';

/** What the CLI passes to `startRunner` of `@hangar/runner`. */
export interface RunnerStartInput {
  controlPlaneUrl: string;
  dataDir: string;
  enrollmentToken?: string;
  gatewayHost?: string;
  gatewayPort?: number;
  gatewayPublicUrl?: string;
  sshHost?: string;
  sshPort?: number;
  sshPublicAddress?: string;
  configFile?: string;
  stopEnvironmentsOnExit?: boolean;
  localRepositoryRoots?: string[];
  logLevel?: LogLevel;
}

export interface StartedRunner {
  runnerId: string;
  gatewayUrl: string;
  /** The SSH gateway: the address clients dial. */
  ssh: { address: string };
  /** The fingerprint of the key secrets are sealed to. */
  encryptionKeyFingerprint: string;
  close(): Promise<void>;
}

/** Starts a runner in this process, logging to `destination` at `input.logLevel`. */
export async function startRunnerHere(
  input: RunnerStartInput,
  destination: { write(message: string): unknown },
): Promise<StartedRunner> {
  const logger = createRunnerLogger({ level: input.logLevel ?? 'info', destination });
  return startRunner(input, { logger });
}
