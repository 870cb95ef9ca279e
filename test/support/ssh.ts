import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SshKey {
  path: string;
  publicLine: string;
  fingerprint: string;
}

/** A fresh ed25519 key pair made by the real `ssh-keygen`, mode 0600. */
export async function makeSshKey(dir: string, name: string): Promise<SshKey> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  await chmod(path, 0o600);
  const publicLine = (await readFile(`${path}.pub`, 'utf8')).trim();
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  const fingerprint = stdout.split(' ')[1] ?? '';
  return { path, publicLine, fingerprint };
}

/** How OpenSSH reaches one gateway: its port, the pinned host key, one identity, no prompts. */
export interface SshTarget {
  port: number;
  knownHosts: string;
  key: string;
}

/** Pins the gateway's host keys for 127.0.0.1 at its port, as `known_hosts` lines. */
export async function pinGateway(
  dir: string,
  gateway: { port: number; hostKeys: string[] },
): Promise<string> {
  const path = join(dir, 'known_hosts');
  const lines = gateway.hostKeys.map((key) => `[127.0.0.1]:${gateway.port} ${key}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** The `-o` options every test client uses: strict host key, only the given key, batch mode. */
export function sshOptions(target: Omit<SshTarget, 'port'>): string[] {
  return [
    '-F',
    'none',
    '-i',
    target.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${target.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
  ];
}

/** `ssh -e` for rsync and `GIT_SSH_COMMAND` for git: the same client as one string. */
export function sshCommandLine(target: SshTarget): string {
  return ['ssh', ...sshOptions(target), '-p', String(target.port)].join(' ');
}

export interface Ran {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program to its end, with optional stdin, keeping stdout as bytes. */
export function runProgram(
  program: string,
  args: string[],
  options: { input?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `ssh user@127.0.0.1 command` against the gateway with the real OpenSSH client. */
export function ssh(
  target: SshTarget,
  user: string,
  command: string,
  options: { input?: Buffer | string; extra?: string[] } = {},
): Promise<Ran> {
  const args = [
    ...sshOptions(target),
    '-p',
    String(target.port),
    ...(options.extra ?? []),
    `${user}@127.0.0.1`,
    command,
  ];
  return runProgram('ssh', args, options.input !== undefined ? { input: options.input } : {});
}

/** A long-running OpenSSH client (a port forward with its server), stopped by the test. */
export function sshInBackground(
  target: SshTarget,
  user: string,
  options: { extra: string[]; command?: string },
): ChildProcess {
  const args = [...sshOptions(target), '-p', String(target.port), ...options.extra];
  args.push(`${user}@127.0.0.1`, ...(options.command ? [options.command] : []));
  return spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
