import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface GitDaemonOptions {
  /** Directory whose repositories are served: `<url>/<name>` is `<root>/<name>`. */
  root: string;
}

export interface GitDaemon {
  /** `git://127.0.0.1:<port>`; append `/<repository>`. */
  url: string;
  close(): Promise<void>;
}

const startAttempts = 5;
const readyTimeoutMs = 10_000;

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Runs the real `git daemon` on 127.0.0.1 serving every repository under `root` (read-only,
 * `--export-all`). `git daemon` cannot listen on port 0, so a free port is picked first and the
 * start is retried if another process takes it in between.
 */
export async function startGitDaemon(options: GitDaemonOptions): Promise<GitDaemon> {
  let lastError: unknown;
  for (let attempt = 0; attempt < startAttempts; attempt += 1) {
    const port = await freeLoopbackPort();
    const child = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        '--listen=127.0.0.1',
        `--port=${port}`,
        '--export-all',
        `--base-path=${options.root}`,
        '--informative-errors',
        '--verbose',
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: options.root,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      },
    );
    try {
      await waitUntilReady(child);
      return { url: `git://127.0.0.1:${port}`, close: () => stop(child) };
    } catch (error: unknown) {
      lastError = error;
      await stop(child);
    }
  }
  throw new Error(`git daemon did not start: ${String(lastError)}`);
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`not ready: ${stderr}`)), readyTimeoutMs);
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString('utf8');
      if (stderr.includes('Ready to rumble')) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)}: ${stderr}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Ends the daemon and the upload-pack children it forked (one process group). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  await exited;
}
