import { lstatSync, readlinkSync } from 'node:fs';
import type { EtcMount } from './etc-files.js';
import { inside } from './layout.js';

/** Top-level entries of the host image that the sandbox gets, as the host has them. */
export const systemEntries = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

export type RootEntry =
  { kind: 'bind'; path: string } | { kind: 'symlink'; target: string; path: string };

/** `/usr` read-only, and each of /bin, /lib, ... as a link or a read-only directory. */
export function hostRootEntries(hostRoot = '/'): RootEntry[] {
  const entries: RootEntry[] = [{ kind: 'bind', path: '/usr' }];
  for (const name of systemEntries) {
    const hostPath = `${hostRoot === '/' ? '' : hostRoot}/${name}`;
    try {
      const stats = lstatSync(hostPath);
      if (stats.isSymbolicLink()) {
        entries.push({ kind: 'symlink', target: readlinkSync(hostPath), path: `/${name}` });
      } else if (stats.isDirectory()) {
        entries.push({ kind: 'bind', path: `/${name}` });
      }
    } catch {
      continue;
    }
  }
  return entries;
}

export interface BwrapPlan {
  hostname: string;
  uid: number;
  gid: number;
  rootEntries: RootEntry[];
  etcMounts: EtcMount[];
  /** Host paths of the Node binary, envd's package directory and its mounted files. */
  nodePath: string;
  envdPackageDir: string;
  /** node-pty's package directory, which envd loads to open terminals. */
  nodePtyDir: string;
  envdConfigPath: string;
  runDir: string;
  /** The folder of the egress proxy socket, bound read-only; absent: no egress at all. */
  egressDir?: string;
  /** Read-write mounts, e.g. the home and the workspace volume, host path → sandbox path. */
  volumes: Array<{ source: string; dest: string }>;
  /** Read-only files over everything else (secrets from the runner's memory), host → sandbox. */
  files?: Array<{ source: string; dest: string }>;
  tmpSizeBytes: number;
  /** envd's own environment; commands get theirs from envd's configuration. */
  env: Record<string, string>;
  chdir: string;
  /** Present from bubblewrap 0.8: stops processes inside creating user namespaces. */
  disableUserns: boolean;
}

/**
 * The bubblewrap options for one sandbox: every namespace unshared (network: loopback only), the
 * host image read-only, a tmpfs /tmp, the volumes read-write, a read-only root otherwise.
 * `--die-with-parent` ends the sandbox when its keeper process dies. The options travel through
 * `--args <fd>` (see {@link encodeArgs}), so host paths do not show in process lists.
 */
// Known gap: no seccomp filter is loaded, so the sandbox reaches the whole syscall surface of
// the kernel that its namespaces allow; a filter passed with `--seccomp` would narrow it.
export function bwrapOptions(plan: BwrapPlan): string[] {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup',
    ...(plan.disableUserns ? ['--disable-userns'] : []),
    '--uid',
    String(plan.uid),
    '--gid',
    String(plan.gid),
    '--hostname',
    plan.hostname,
  ];
  for (const entry of plan.rootEntries) {
    if (entry.kind === 'bind') args.push('--ro-bind', entry.path, entry.path);
    else args.push('--symlink', entry.target, entry.path);
  }
  args.push('--dir', '/etc');
  for (const mount of plan.etcMounts) {
    if (mount.kind === 'bind') args.push('--ro-bind', mount.source, mount.dest);
    else args.push('--symlink', mount.target, mount.dest);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(plan.tmpSizeBytes), '--tmpfs', inside.tmp);
  args.push(
    '--ro-bind',
    plan.nodePath,
    inside.node,
    '--ro-bind',
    `${plan.envdPackageDir}/package.json`,
    `${inside.envdPackage}/package.json`,
    '--ro-bind',
    `${plan.envdPackageDir}/dist`,
    `${inside.envdPackage}/dist`,
    '--ro-bind',
    plan.nodePtyDir,
    inside.nodePty,
    '--ro-bind',
    plan.envdConfigPath,
    inside.envdConfig,
    '--bind',
    plan.runDir,
    inside.socketDir,
  );
  if (plan.egressDir !== undefined) args.push('--ro-bind', plan.egressDir, inside.egressDir);
  const volumes = [...plan.volumes].sort((a, b) => a.dest.length - b.dest.length);
  for (const volume of volumes) args.push('--bind', volume.source, volume.dest);
  for (const file of plan.files ?? []) args.push('--ro-bind', file.source, file.dest);
  args.push('--chdir', plan.chdir, '--clearenv');
  for (const [key, value] of Object.entries(plan.env)) args.push('--setenv', key, value);
  args.push('--new-session', '--die-with-parent', '--remount-ro', '/');
  return args;
}

/** What bwrap runs inside: envd on the mounted Node binary. */
export const envdCommand = [inside.node, inside.envdMain, inside.envdConfig] as const;

/** The NUL-separated form `bwrap --args <fd>` reads. */
export function encodeArgs(args: string[]): Buffer {
  if (args.some((arg) => arg.includes('\0'))) throw new Error('a bwrap argument contains NUL');
  return Buffer.from(args.map((arg) => `${arg}\0`).join(''), 'utf8');
}
