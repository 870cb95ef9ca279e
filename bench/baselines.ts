import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startStockSshd } from './stock-sshd.js';

const run = promisify(execFile);

/** The smallest sandbox bubblewrap can start with the namespaces an environment gets. */
export function bareBwrapArgs(): string[] {
  const links = ['bin', 'lib', 'lib64', 'sbin']
    .filter((name) => existsSync(`/${name}`))
    .flatMap((name) => ['--symlink', `usr/${name}`, `/${name}`]);
  return [
    '--unshare-all',
    '--die-with-parent',
    '--ro-bind',
    '/usr',
    '/usr',
    ...links,
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    'true',
  ];
}

export async function bareBwrap(): Promise<void> {
  await run('bwrap', bareBwrapArgs());
}

/**
 * A stock OpenSSH server of this machine's own on a loopback port (see `stock-sshd.ts`), with a
 * fresh key for this user; `run()` is one `ssh 127.0.0.1 true`. Undefined when sshd is not
 * installed.
 */
export async function startSshBaseline() {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-ssh-'));
  await chmod(dir, 0o700);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  const stock = await startStockSshd(dir, await readFile(join(dir, 'client.pub'), 'utf8'));
  if (!stock) {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  const args = [
    '-p',
    String(stock.server.port),
    '-i',
    join(dir, 'client'),
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${stock.server.knownHosts}`,
    '-o',
    'BatchMode=yes',
    '-o',
    'LogLevel=ERROR',
    '127.0.0.1',
    'true',
  ];
  for (let i = 0; i < 50; i += 1) {
    try {
      await run('ssh', args);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    run: async () => {
      await run('ssh', args);
    },
    close: async () => {
      stock.child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
