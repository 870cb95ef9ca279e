import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { HangarError } from '@hangar/api/errors.js';
import { defineCommand } from '../command.js';
import { resolveEnvironment } from '../environments.js';
import { UsageError } from '../errors.js';
import type { GatewayAccess } from '../gateway.js';
import type { HttpClient } from '../http-client.js';
import type { Io } from '../io.js';
import { apiFlags, openSession } from '../session.js';
import {
  knownHostsPath,
  parseAddress,
  pinHostKeys,
  pinnedHostOptions,
  readableKeyFile,
  type SshEndpoint,
} from '../ssh-hosts.js';

const commandPath = 'ssh';

/** `-L` specs whose target is loopback inside the environment: all the gateway forwards. */
const forwardPattern =
  /^(?:(?:[A-Za-z0-9.*-]+|\[[0-9A-Fa-f:]+\]):)?\d{1,5}:(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/;

export function checkForward(spec: string): string {
  if (!forwardPattern.test(spec)) {
    throw new UsageError(
      `--forward ${spec} is not [bind:]port:localhost:port; the gateway forwards only to ` +
        'localhost (or 127.0.0.1, [::1]) inside the environment',
      {
        commandPath,
        fields: [{ field: 'forward', message: 'must be [bind:]port:localhost:port' }],
      },
    );
  }
  return spec;
}

export interface SshInvocation {
  endpoint: SshEndpoint;
  username: string;
  knownHosts: string;
  identity?: string;
  forwards: string[];
  tty: boolean;
  command: string[];
}

/** The arguments for OpenSSH's `ssh`: the pinned host key, the gateway, then the command. */
export function sshArguments(invocation: SshInvocation): string[] {
  const { host, port } = parseAddress(invocation.endpoint.address);
  const options = pinnedHostOptions(invocation.endpoint, invocation.knownHosts);
  return [
    '-p',
    String(port),
    ...options.flatMap((option) => ['-o', option]),
    ...(invocation.identity ? ['-i', invocation.identity, '-o', 'IdentitiesOnly=yes'] : []),
    ...invocation.forwards.flatMap((spec) => ['-L', spec]),
    ...(invocation.tty ? ['-t'] : []),
    `${invocation.username}@${host}`,
    ...(invocation.command.length > 0 ? ['--', ...invocation.command] : []),
  ];
}

/**
 * Runs `ssh` and resolves with its exit code. In a real process it gets the terminal itself;
 * with other streams (tests) they are piped. Ctrl-C goes to ssh, which passes it on or leaves.
 */
export function runSsh(io: Io, args: string[]): Promise<number> {
  const inherit =
    io.stdin === process.stdin && io.stdout === process.stdout && io.stderr === process.stderr;
  const program = 'ssh';
  const child = spawn(program, args, { stdio: inherit ? 'inherit' : 'pipe' });
  if (!inherit) {
    io.stdin.pipe(child.stdin!);
    child.stdout!.pipe(io.stdout, { end: false });
    child.stderr!.pipe(io.stderr, { end: false });
  }
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  return new Promise<number>((done, fail) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      process.off('SIGINT', ignore);
      fail(
        error.code === 'ENOENT'
          ? new HangarError(
              'invalid_request',
              `${program} was not found; install OpenSSH's client (Debian: openssh-client)`,
            )
          : error,
      );
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      const number = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
      done(code ?? (number !== undefined ? 128 + number : 255));
    });
  });
}

/** A grant with `ssh` for the environment; the control plane adds where its gateway is. */
function sshAccess(
  api: HttpClient,
  environmentId: string,
): Promise<GatewayAccess & { ssh?: Omit<SshEndpoint, 'runnerId'> & { username: string } }> {
  return api.post(`/v1/environments/${encodeURIComponent(environmentId)}/access`, {
    operations: ['ssh'],
  });
}

export const command = defineCommand({
  synopsis: '<env> [--identity FILE] [--forward SPEC]... [--tty] [-- <command...>]',
  description:
    "Opens a shell in a running environment, or runs a command there, with this machine's " +
    "OpenSSH client through the runner's SSH gateway; the bytes never pass the control plane. " +
    "The runner's host key is pinned first in the CLI's own known_hosts " +
    '($HANGAR_HOME/ssh, else ~/.config/hangar/ssh), so ssh checks it strictly and never asks. ' +
    'Log in with a key added by `hangar ssh-key add` (your usual keys or agent, or --identity). ' +
    "Exits with ssh's exit code: the command's own, or 255 when ssh failed.",
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    rest: { name: 'command', describe: 'run this instead of a login shell' },
    flags: {
      ...apiFlags,
      identity: {
        type: 'string',
        valueName: 'FILE',
        describe: 'log in with this private key only (ssh -i)',
      },
      forward: {
        type: 'string',
        valueName: 'SPEC',
        multiple: true,
        describe: 'forward [bind:]port:localhost:port to the environment (ssh -L)',
      },
      tty: { type: 'boolean', describe: 'a terminal even for a command (ssh -t)' },
    },
  },
  async run({ io }, { flags, positionals, rest }) {
    if (flags.json) throw new UsageError('--json does not apply to ssh', { commandPath });
    const forwards = flags.forward.map(checkForward);
    const identity = flags.identity
      ? await readableKeyFile(resolve(io.cwd, flags.identity), { commandPath, flag: 'identity' })
      : undefined;
    const { api } = await openSession(io, flags);
    const environment = await resolveEnvironment(api, positionals.env);
    if (environment.status.phase !== 'running') {
      throw new HangarError(
        'environment_not_running',
        `environment ${environment.name} is ${environment.status.phase}, not running; ` +
          `start it with \`hangar env start ${environment.name} --wait\``,
      );
    }
    const { sshKeys } = await api.get<{ sshKeys: unknown[] }>('/v1/ssh-keys');
    if (sshKeys.length === 0) {
      throw new HangarError(
        'invalid_request',
        'you have no SSH key registered, so the gateway would refuse every key; add one with ' +
          '`hangar ssh-key add ~/.ssh/id_ed25519.pub` (ssh-keygen -t ed25519 makes one)',
      );
    }
    const granted = await sshAccess(api, environment.id);
    if (!granted.ssh) {
      throw new HangarError(
        'runner_unavailable',
        `runner ${granted.runnerId} has not published an SSH gateway; restart it with a ` +
          'version of Hangar that serves SSH',
      );
    }
    const endpoint = { runnerId: granted.runnerId, ...granted.ssh };
    const knownHosts = knownHostsPath(io);
    await pinHostKeys(knownHosts, [endpoint]);
    const args = sshArguments({
      endpoint,
      username: granted.ssh.username,
      knownHosts,
      ...(identity ? { identity } : {}),
      forwards,
      tty: flags.tty,
      command: rest,
    });
    const code = await runSsh(io, args);
    if (code === 255) {
      io.stderr.write(
        'hangar: ssh failed; if it said "Permission denied", log in with a key that ' +
          '`hangar ssh-key list` shows (--identity FILE for one outside ~/.ssh)\n',
      );
    }
    return code;
  },
});
