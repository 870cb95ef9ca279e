import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export /** One SSH server as the OpenSSH client reaches it: port, user, pinned host key, one key. */
interface Server {
  label: string;
  port: number;
  user: string;
  knownHosts: string;
  /** Where `scp` puts the file on that server. */
  uploadPath: string;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A stock OpenSSH server of this machine on a loopback port, with its own host key,
 * authorized_keys and configuration in `dir`, logging in as the current user (root here).
 */
export async function startStockSshd(dir: string, publicKey: string) {
  const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((path) => existsSync(path));
  if (!sshd) return undefined;
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'sshd_host')]);
  await writeFile(join(dir, 'authorized_keys'), publicKey, { mode: 0o600 });
  await mkdir(join(dir, 'home'), { mode: 0o700 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'sshd_host')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin yes',
    'StrictModes no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    // An empty home: the user's own shell start-up files (root's may be slow) stay out of the
    // figures, as they do for the environment's user, whose shell starts without them.
    `SetEnv HOME=${join(dir, 'home')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
  ];
  await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  const child = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  const hostKey = (await readFile(join(dir, 'sshd_host.pub'), 'utf8')).trim();
  const knownHosts = join(dir, 'sshd_known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  const user = (await run('id', ['-un'])).stdout.trim();
  const server: Server = {
    label: 'stock sshd',
    port,
    user,
    knownHosts,
    uploadPath: join(dir, 'uploaded.bin'),
  };
  return { server, child };
}
