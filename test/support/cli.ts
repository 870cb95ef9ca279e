import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const hangarBin = join(root, 'packages', 'cli', 'bin', 'hangar.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `hangar` command as a separate process and collects its output. */
export function hangar(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hangarBin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A long-running `hangar` process (`up`, `control`, `runner`), with its output so far. */
export interface Daemon {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the JSON document the command prints on stdout once it is ready. */
  summary: Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startDaemon(args: string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(process.execPath, [hangarBin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const summary = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const start = stdout.indexOf('{');
      if (start < 0) return;
      try {
        resolve(JSON.parse(stdout.slice(start)) as Record<string, unknown>);
      } catch {
        // the summary is not complete yet
      }
    });
    child.on('close', (code) => reject(new Error(`hangar ${args[0]} exited ${code}: ${stderr}`)));
  });
  summary.catch(() => undefined);
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return {
    child,
    output: () => stdout + stderr,
    summary,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
