import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerClass } from '@hangar/api';
import type { EnvdClient, ExecOptions, ExecOutcome, SandboxSpec } from '../provider.js';
import { SandboxProvider, type SandboxProviderOptions } from './sandbox-provider.js';

/** Shared set-up for the sandbox tests: temporary dirs the sandbox user can reach, and specs. */
export interface SandboxFixture {
  root: string;
  dataDir: string;
  provider: SandboxProvider;
  /** A fresh spec with its own environment id and an empty workspace volume. */
  spec(overrides?: Partial<SandboxSpec> & { classLimits?: Partial<RunnerClass> }): SandboxSpec;
  newProvider(options?: Partial<SandboxProviderOptions>): SandboxProvider;
  /** Removes every environment the fixture made, then the temporary directory. */
  cleanup(): Promise<void>;
}

export const testUser = { uid: 1000, gid: 1000, name: 'dev' };

export const smallClass: RunnerClass = { name: 'small', cpu: 1, memoryMiB: 512, pids: 256 };

export function sandboxFixture(): SandboxFixture {
  const root = mkdtempSync(join(tmpdir(), 'hangar-sandbox-'));
  chmodSync(root, 0o711);
  const dataDir = join(root, 'data');
  const created = new Set<string>();
  const newProvider = (options: Partial<SandboxProviderOptions> = {}): SandboxProvider =>
    new SandboxProvider({ dataDir, ...options });
  const provider = newProvider();
  return {
    root,
    dataDir,
    provider,
    newProvider,
    spec(overrides = {}) {
      const environmentId = `env_${randomBytes(6).toString('hex')}`;
      created.add(environmentId);
      const workspaceDir = join(root, 'volumes', environmentId);
      mkdirSync(join(root, 'volumes'), { recursive: true, mode: 0o711 });
      const { classLimits, ...rest } = overrides;
      return {
        environmentId,
        workspaceDir,
        workspaceFolder: '/workspaces/repo',
        class: { ...smallClass, ...classLimits },
        user: testUser,
        containerEnv: {},
        ...rest,
      };
    },
    async cleanup() {
      for (const environmentId of created) await provider.remove(environmentId);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface CollectedExec {
  stdout: Buffer;
  stderr: Buffer;
  outcome: ExecOutcome;
}

/** Runs a command and keeps its output whole. */
export async function run(
  client: EnvdClient,
  command: string[],
  options: Omit<ExecOptions, 'command' | 'onStdout' | 'onStderr'> = {},
): Promise<CollectedExec> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const outcome = await client.exec({
    ...options,
    command,
    onStdout: (chunk) => void stdout.push(chunk),
    onStderr: (chunk) => void stderr.push(chunk),
  });
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), outcome };
}

/** Runs `sh -c script` and returns its stdout as text. */
export async function shell(client: EnvdClient, script: string): Promise<string> {
  const result = await run(client, ['sh', '-c', script]);
  return result.stdout.toString('utf8');
}

export interface StartedSandbox {
  id: string;
  client: EnvdClient;
  volume: string;
}

/** Starts one more sandbox of the fixture and connects to its envd. */
export async function startSandbox(fixture: SandboxFixture): Promise<StartedSandbox> {
  const spec = fixture.spec();
  await fixture.provider.start(spec);
  const client = await fixture.provider.connect(spec.environmentId);
  return { id: spec.environmentId, client, volume: spec.workspaceDir };
}

/**
 * The number a command keeps writing to `path` on the host, once it is above 0 and has stopped
 * changing; the highest number seen if it never stops within `rounds` polls of 200 ms.
 */
export async function settledCount(path: string, rounds = 150): Promise<number> {
  let last = 0;
  let highest = 0;
  for (let round = 0; round < rounds; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (text === '') continue;
    const now = Number(text);
    highest = Math.max(highest, now);
    if (now === last) return now;
    last = now;
  }
  return highest;
}
