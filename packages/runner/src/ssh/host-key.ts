import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { HangarError } from '@hangar/api';

/** Where the SSH gateway's host key lives in the runner's data directory. */
export const hostKeyFileName = 'ssh_host_ed25519_key';

export interface HostKey {
  /** The private key in OpenSSH format, for the server only. */
  privateKey: string;
  /** The public key as one `known_hosts`-style line: `ssh-ed25519 AAAA…`. */
  publicLine: string;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function parse(text: string, path: string): HostKey {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error || !parsed.isPrivateKey() || parsed.type !== 'ssh-ed25519') {
    throw new HangarError(
      'invalid_request',
      `${path} is not an ed25519 private key in OpenSSH format; remove it and start the runner ` +
        'again to generate a new one (clients then need the new host key: run `hangar ssh-config`)',
    );
  }
  return {
    privateKey: text,
    publicLine: `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`,
  };
}

/**
 * A new ed25519 key pair in OpenSSH format. ssh2's generator drops the leading zero byte of a
 * public key that starts with one (about 1 key in 256), which its own parser then refuses; such
 * a key is generated again.
 */
export function generateEd25519Key(comment: string): { private: string; public: string } {
  for (;;) {
    const generated = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (!(ssh2.utils.parseKey(generated.private) instanceof Error)) return generated;
  }
}

/**
 * The runner's SSH host key: generated once into the data directory (mode 0600, written to a
 * temporary file and renamed, so a crash never leaves half a key) and the same on every later
 * start, so that the key clients pinned stays valid. The data directory lock keeps two
 * runners from generating at once. A key file others may read is refused, as sshd does.
 */
export async function loadHostKey(dataDir: string): Promise<HostKey> {
  const path = join(dataDir, hostKeyFileName);
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new HangarError(
        'invalid_request',
        `${path} has mode ${mode.toString(8)}; others may read the SSH host key. Run ` +
          `\`chmod 600 ${path}\` (or remove it to generate a new one), then start again`,
      );
    }
    return parse(await readFile(path, 'utf8'), path);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const generated = generateEd25519Key('hangar-runner');
  const temporary = `${path}.tmp`;
  await rm(temporary, { force: true });
  await writeFile(temporary, generated.private, { mode: 0o600 });
  await rename(temporary, path);
  return parse(generated.private, path);
}
