import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Environment, Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { listEnvironments } from '../environments.js';
import { UsageError } from '../errors.js';
import type { HttpClient } from '../http-client.js';
import type { Output } from '../output.js';
import { apiFlags, openSession } from '../session.js';
import {
  hostKeyAlias,
  knownHostsPath,
  parseAddress,
  pinHostKeys,
  readableKeyFile,
  sshConfigValue,
  type SshEndpoint,
} from '../ssh-hosts.js';

const commandPath = 'ssh-config';

export interface HostEntry {
  environment: Pick<Environment, 'id' | 'name'>;
  endpoint: SshEndpoint;
}

/**
 * One `Host <name>.hangar` block per environment, as VS Code Remote-SSH, JetBrains Gateway and
 * plain `ssh <name>.hangar` read them: the runner's gateway, the environment id as the user,
 * and the host key pinned in the CLI's known_hosts under the runner's alias.
 */
export function renderSshConfig(
  entries: readonly HostEntry[],
  options: { knownHosts: string; identity?: string },
): string {
  const lines = [
    '# Written by `hangar ssh-config`: one Host per running environment. Run it again after',
    '# creating or starting environments; edits here are replaced.',
  ];
  for (const { environment, endpoint } of entries) {
    const { host, port } = parseAddress(endpoint.address);
    lines.push(
      '',
      `Host ${environment.name}.hangar`,
      `  HostName ${host}`,
      `  Port ${port}`,
      `  User ${environment.id}`,
      `  HostKeyAlias ${hostKeyAlias(endpoint.runnerId)}`,
      `  UserKnownHostsFile ${sshConfigValue(options.knownHosts)}`,
      '  StrictHostKeyChecking yes',
      '  UpdateHostKeys no',
      '  ForwardAgent no',
      '  ForwardX11 no',
    );
    if (options.identity) {
      lines.push(`  IdentityFile ${sshConfigValue(options.identity)}`, '  IdentitiesOnly yes');
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Your running environments with the SSH gateway of their runner; others are named. */
async function runningHosts(api: HttpClient, out: Output): Promise<HostEntry[]> {
  const environments = (await listEnvironments(api)).filter(
    (environment) => environment.status.phase === 'running',
  );
  const { runners } = await api.get<{ runners: Runner[] }>('/v1/runners');
  const entries: HostEntry[] = [];
  const skipped: string[] = [];
  for (const environment of environments) {
    const ssh = runners.find((runner) => runner.id === environment.runnerId)?.ssh;
    if (ssh) entries.push({ environment, endpoint: { runnerId: environment.runnerId, ...ssh } });
    else skipped.push(environment.name);
  }
  if (skipped.length > 0) {
    out.warn(`no SSH gateway published by the runner of ${skipped.join(', ')}; left out`);
  }
  return entries;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
}

/** Whether ~/.ssh/config already has an `Include` of config.d/hangar (or all of config.d). */
async function includesDefault(homeDir: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(homeDir, '.ssh', 'config'), 'utf8');
  } catch {
    return false;
  }
  const names = new Set([
    'config.d/hangar',
    'config.d/*',
    join(homeDir, '.ssh', 'config.d', 'hangar'),
  ]);
  for (const prefix of ['~/.ssh/', `${homeDir}/.ssh/`]) {
    names.add(`${prefix}config.d/hangar`).add(`${prefix}config.d/*`);
  }
  return text.split('\n').some((line) => {
    const words = line.trim().split(/\s+/);
    return /^include$/i.test(words[0] ?? '') && words.slice(1).some((word) => names.has(word));
  });
}

export const command = defineCommand({
  synopsis: '[--write | --write-to FILE] [--identity FILE]',
  description:
    'Prints an OpenSSH configuration with a `Host <name>.hangar` block for each of your running ' +
    'environments, so `ssh <name>.hangar`, VS Code Remote-SSH and JetBrains Gateway reach ' +
    "them through their runner's gateway. The runners' host keys are pinned in the CLI's own " +
    'known_hosts, which the blocks name. --write writes ~/.ssh/config.d/hangar (--write-to ' +
    'another file) instead of printing; add `Include config.d/hangar` to ~/.ssh/config once.',
  spec: {
    flags: {
      ...apiFlags,
      write: { type: 'boolean', describe: 'write ~/.ssh/config.d/hangar instead of printing' },
      'write-to': { type: 'string', valueName: 'FILE', describe: 'write this file instead' },
      identity: {
        type: 'string',
        valueName: 'FILE',
        describe: 'log in with this private key only (IdentityFile)',
      },
    },
  },
  async run({ io, out }, { flags }) {
    if (flags.write && flags['write-to'] !== undefined) {
      throw new UsageError('--write and --write-to contradict each other; give one', {
        commandPath,
      });
    }
    const target = flags['write-to']
      ? resolve(io.cwd, flags['write-to'])
      : flags.write
        ? join(io.homeDir, '.ssh', 'config.d', 'hangar')
        : undefined;
    if (target && out.json) {
      throw new UsageError('--json prints the configuration as JSON; leave out --write', {
        commandPath,
      });
    }
    const identity = flags.identity
      ? await readableKeyFile(resolve(io.cwd, flags.identity), { commandPath, flag: 'identity' })
      : undefined;
    const { api } = await openSession(io, flags);
    const entries = await runningHosts(api, out);
    const knownHosts = knownHostsPath(io);
    const endpoints = new Map(entries.map((entry) => [entry.endpoint.runnerId, entry.endpoint]));
    await pinHostKeys(knownHosts, [...endpoints.values()]);
    const text = renderSshConfig(entries, { knownHosts, ...(identity ? { identity } : {}) });
    if (!target) {
      out.result(
        { hosts: entries.map((entry) => `${entry.environment.name}.hangar`), config: text },
        () => text,
      );
      return 0;
    }
    await writeAtomically(target, text);
    out.info(`wrote ${entries.length} host${entries.length === 1 ? '' : 's'} to ${target}`);
    if (!flags['write-to'] && !(await includesDefault(io.homeDir))) {
      out.info(
        'add this line at the top of ~/.ssh/config so ssh reads it:\n  Include config.d/hangar',
      );
    }
    return 0;
  },
});
