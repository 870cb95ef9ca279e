import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvdConfig } from '@hangar/envd/config.js';
import { proxyEnv, proxyListenPort } from '../../egress/service.js';
import { prepareEgressDir } from '../../egress/socket-dir.js';
import type { SandboxSpec } from '../provider.js';
import { bwrapOptions, encodeArgs, envdCommand, hostRootEntries } from './bwrap-args.js';
import { prepareEtc } from './etc-files.js';
import { assertReachable } from './host-access.js';
import type { HostTools } from './host-check.js';
import { environmentPaths, homeFolder, inside, type EnvironmentPaths } from './layout.js';
import { prepareOwnedDir } from './volume.js';

/** The descriptor on which the keeper hands bwrap its options file. */
export const argsFd = 3;

export interface HostUser {
  uid: number;
  gid: number;
}

/** Who the sandbox runs as on the host: the spec's user when root, otherwise the runner itself. */
export function hostUserFor(spec: SandboxSpec): HostUser {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { uid: spec.user.uid, gid: spec.user.gid };
  return { uid, gid: process.getgid?.() ?? uid };
}

export function hostnameFor(environmentId: string): string {
  const name = environmentId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return name === '' ? 'hangar' : name;
}

/**
 * The variables every command inside gets before its own: the user's basics, the egress proxy
 * (the only way out of the sandbox's network), then containerEnv.
 */
export function commandEnv(spec: SandboxSpec, hostname: string): Record<string, string> {
  const home = homeFolder(spec.user.name);
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    USER: spec.user.name,
    LOGNAME: spec.user.name,
    SHELL: shellPath(),
    HOSTNAME: hostname,
    LANG: 'C.UTF-8',
    ...proxyEnv,
    ...spec.containerEnv,
  };
}

function shellPath(): string {
  return existsSync('/usr/bin/bash') || existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
}

/**
 * Lays out the environment's state directory (home, socket dir, /etc files, envd's
 * configuration), hands the writable parts to the sandbox's user, and returns the command that
 * starts the sandbox.
 */
export function prepareSandbox(options: {
  dataDir: string;
  spec: SandboxSpec;
  tools: HostTools;
  nodePath: string;
  envdPackageDir: string;
  nodePtyDir: string;
  /** This boot's envd secret, as hex (see `@hangar/envd/auth.js`). */
  envdSecret: string;
}): { paths: EnvironmentPaths; command: string[]; hostUser: HostUser } {
  const { spec, tools } = options;
  const paths = environmentPaths(options.dataDir, spec.environmentId);
  const hostUser = hostUserFor(spec);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o711 });
  mkdirSync(paths.root, { recursive: true, mode: 0o711 });
  prepareOwnedDir(paths.home, hostUser);
  chmodSync(paths.home, 0o700);
  // envd runs as the sandbox's user and so does everything inside: a process there can replace
  // the socket (with a symlink, say). The client connects only to a socket inode in this
  // directory and only after envd's proof for this environment (see `envd-connect.ts`), and it
  // treats envd's answers as untrusted input.
  prepareOwnedDir(paths.runDir, hostUser);
  chmodSync(paths.runDir, 0o700);
  rmSync(paths.socket, { force: true });
  prepareOwnedDir(spec.workspaceDir, hostUser);
  prepareEgressDir(paths.egressDir, hostUser);
  const hostname = hostnameFor(spec.environmentId);
  const home = homeFolder(spec.user.name);
  const etcMounts = prepareEtc({
    dir: paths.etcDir,
    user: { ...spec.user, home, shell: shellPath() },
    hostname,
  });
  writeEnvdConfig(paths.envdConfig, hostUser, {
    socketPath: inside.socket,
    environmentId: spec.environmentId,
    authSecret: options.envdSecret,
    workspaceFolder: spec.workspaceFolder,
    roots: [spec.workspaceFolder, home, inside.tmp],
    env: commandEnv(spec, hostname),
    killGraceMs: 1000,
    outputQuietMs: 500,
    egress: { listenPort: proxyListenPort, socketPath: inside.egressSocket },
  });
  assertReachable(
    [
      paths.home,
      paths.runDir,
      paths.egressDir,
      paths.envdConfig,
      join(paths.etcDir, 'passwd'),
      spec.workspaceDir,
      ...(spec.memoryFiles ?? []).map((file) => file.source),
      options.nodePath,
      join(options.envdPackageDir, 'dist', 'main.js'),
      join(options.nodePtyDir, 'package.json'),
    ],
    { uid: hostUser.uid, gids: [hostUser.gid] },
  );
  const bwrapOpts = bwrapOptions({
    hostname,
    uid: spec.user.uid,
    gid: spec.user.gid,
    rootEntries: hostRootEntries(),
    etcMounts,
    nodePath: options.nodePath,
    envdPackageDir: options.envdPackageDir,
    nodePtyDir: options.nodePtyDir,
    envdConfigPath: paths.envdConfig,
    runDir: paths.runDir,
    egressDir: paths.egressDir,
    volumes: [
      { source: paths.home, dest: home },
      { source: spec.workspaceDir, dest: spec.workspaceFolder },
    ],
    files: spec.memoryFiles ?? [],
    tmpSizeBytes: spec.class.memoryMiB * 1024 * 1024,
    env: { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
    chdir: spec.workspaceFolder,
    disableUserns: tools.disableUserns,
  });
  writeFileSync(paths.bwrapArgs, encodeArgs(bwrapOpts), { mode: 0o600 });
  const bwrap = [tools.bwrapPath, '--args', String(argsFd), '--', ...envdCommand];
  const command = tools.setprivPath
    ? [
        tools.setprivPath,
        `--reuid=${hostUser.uid}`,
        `--regid=${hostUser.gid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        '--',
        ...bwrap,
      ]
    : bwrap;
  return { paths, command, hostUser };
}

/**
 * Readable by the sandbox's user only: it holds containerEnv, which may carry secrets, and the
 * envd secret. It is mounted into this sandbox alone.
 */
function writeEnvdConfig(path: string, owner: HostUser, config: EnvdConfig): void {
  rmSync(path, { force: true });
  writeFileSync(path, JSON.stringify(config), { mode: 0o400 });
  if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
}
