import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * An OpenSSH server of this machine's own, on a loopback port, with a fresh host key and a key
 * for this user; `run()` is one `ssh localhost true`. Undefined when sshd is not installed.
 */
export async function startSshBaseline() {
  const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((path) => existsSync(path));
  if (!sshd) return undefined;
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'hangar-bench-ssh-'));
  await chmod(dir, 0o700);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client.pub')));
  await chmod(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin yes',
    'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`,
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  const server = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  const args = [
    '-p',
    String(port),
    '-i',
    join(dir, 'client'),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
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
      server.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
