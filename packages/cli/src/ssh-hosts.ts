import { access, chmod, constants, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HangarError } from '@hangar/api/errors.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

/** A runner's SSH gateway as the control plane publishes it. */
export interface SshEndpoint {
  runnerId: string;
  /** `host:port`, an IPv6 host in brackets. */
  address: string;
  /** OpenSSH public key lines. */
  hostKeys: string[];
}

/**
 * Where the CLI keeps what SSH needs: `$HANGAR_HOME/ssh`, else `hangar/ssh` in the user's
 * configuration folder (`$XDG_CONFIG_HOME`, else `~/.config`).
 */
export function sshDir(io: Pick<Io, 'env' | 'cwd' | 'homeDir'>): string {
  if (io.env.HANGAR_HOME) return join(resolve(io.cwd, io.env.HANGAR_HOME), 'ssh');
  const config = io.env.XDG_CONFIG_HOME
    ? resolve(io.cwd, io.env.XDG_CONFIG_HOME)
    : join(io.homeDir, '.config');
  return join(config, 'hangar', 'ssh');
}

export function knownHostsPath(io: Pick<Io, 'env' | 'cwd' | 'homeDir'>): string {
  return join(sshDir(io), 'known_hosts');
}

/**
 * The name a runner's host keys are pinned under (`HostKeyAlias`): the runner, not its address,
 * so a key is never trusted for another runner that later answers on the same address.
 */
export function hostKeyAlias(runnerId: string): string {
  return `hangar-${runnerId}`;
}

/** `host:port` or `[v6]:port` as its parts; anything else is the control plane's fault. */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9][A-Za-z0-9.-]*)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !(port >= 1 && port <= 65535)) {
    throw new HangarError(
      'internal',
      `the runner published the SSH address "${address.slice(0, 100)}", which is not host:port; ` +
        'check its --ssh-address setting',
    );
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

const keyLinePattern = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+=*$/;

/**
 * Pins the runners' host keys in the CLI's own known_hosts file (0600), replacing what it held
 * for those runners and keeping the others, so `ssh` checks the key strictly and never asks.
 */
export async function pinHostKeys(path: string, endpoints: readonly SshEndpoint[]): Promise<void> {
  const aliases = new Set(endpoints.map((endpoint) => hostKeyAlias(endpoint.runnerId)));
  let kept: string[] = [];
  try {
    const text = await readFile(path, 'utf8');
    kept = text.split('\n').filter((line) => line && !aliases.has(line.split(' ')[0] ?? ''));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pinned = endpoints.flatMap((endpoint) =>
    endpoint.hostKeys.map((key) => {
      const line = key.trim().split(/\s+/).slice(0, 2).join(' ');
      if (!keyLinePattern.test(line)) {
        throw new HangarError(
          'internal',
          `runner ${endpoint.runnerId} published a host key that is not an OpenSSH public key`,
        );
      }
      return `${hostKeyAlias(endpoint.runnerId)} ${line}`;
    }),
  );
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${[...kept, ...pinned].join('\n')}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

/** A value as ssh_config reads it: in double quotes when it has blanks. */
export function sshConfigValue(value: string): string {
  if (/["\r\n]/.test(value)) {
    throw new HangarError(
      'invalid_request',
      `ssh cannot be given the path ${JSON.stringify(value)}: it holds a quote or a line break`,
    );
  }
  return /\s/.test(value) ? `"${value}"` : value;
}

/** The `ssh -o` options that make OpenSSH check the pinned key and nothing else. */
export function pinnedHostOptions(endpoint: SshEndpoint, knownHosts: string): string[] {
  return [
    `UserKnownHostsFile=${sshConfigValue(knownHosts)}`,
    `HostKeyAlias=${hostKeyAlias(endpoint.runnerId)}`,
    'StrictHostKeyChecking=yes',
    'UpdateHostKeys=no',
    'ForwardAgent=no',
    'ForwardX11=no',
  ];
}

/** A private key file given on the command line, checked to be readable before any request. */
export async function readableKeyFile(
  path: string,
  where: { commandPath: string; flag: string },
): Promise<string> {
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new UsageError(`--${where.flag} ${path} cannot be read`, {
      commandPath: where.commandPath,
      fields: [{ field: where.flag, message: 'must be a readable private key file' }],
    });
  }
  const start = (await readFile(path)).subarray(0, 64).toString('utf8');
  if (/^(ssh-|ecdsa-|sk-)\S+ /.test(start)) {
    throw new UsageError(
      `--${where.flag} ${path} is a public key; pass the private key beside it` +
        (path.endsWith('.pub') ? ` (${path.slice(0, -'.pub'.length)})` : ''),
      {
        commandPath: where.commandPath,
        fields: [{ field: where.flag, message: 'must be a private key, not a public one' }],
      },
    );
  }
  return path;
}
