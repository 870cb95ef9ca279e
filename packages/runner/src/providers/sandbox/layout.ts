import { join } from 'node:path';

/** Fixed places inside every sandbox. */
export const inside = {
  node: '/run/hangar/node',
  envdPackage: '/run/hangar/envd',
  envdMain: '/run/hangar/envd/dist/main.js',
  /** Where envd's `require('node-pty')` finds it: node_modules beside envd's package. */
  nodePty: '/run/hangar/envd/node_modules/node-pty',
  envdConfig: '/run/hangar/envd.json',
  socketDir: '/run/hangar/sock',
  socket: '/run/hangar/sock/envd.sock',
  /** The runner's egress proxy socket, in a folder bound read-only (see `egress/`). */
  egressDir: '/run/hangar/egress',
  egressSocket: '/run/hangar/egress/proxy.sock',
  tmp: '/tmp',
} as const;

/** Paths inside the sandbox that the workspace folder may not be, or be under. */
export const reservedFolders = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/proc',
  '/dev',
  '/run',
  '/sys',
] as const;

export function homeFolder(userName: string): string {
  return `/home/${userName}`;
}

/** Where one environment's state lives on the host, under the provider's data dir. */
export interface EnvironmentPaths {
  root: string;
  /** The persistent home directory, mounted read-write at `/home/<user>`. */
  home: string;
  /** Holds envd's socket; mounted read-write at {@link inside.socketDir}. */
  runDir: string;
  socket: string;
  /** Holds the environment's egress proxy socket; the runner's, mounted read-only. */
  egressDir: string;
  egressSocket: string;
  /** Generated /etc files (passwd, group, hosts, ...), mounted read-only one by one. */
  etcDir: string;
  envdConfig: string;
  /** bwrap's options, NUL-separated, handed to it as `--args 3`. */
  bwrapArgs: string;
  /** Output of bwrap and envd's own log, its first MiB (see `launch.ts`). */
  log: string;
  /** Present while the sandbox runs (or may run): pids, cgroups, conditions. */
  record: string;
}

export function environmentPaths(dataDir: string, environmentId: string): EnvironmentPaths {
  const root = join(dataDir, environmentId);
  const runDir = join(root, 'run');
  return {
    root,
    home: join(root, 'home'),
    runDir,
    socket: join(runDir, 'envd.sock'),
    egressDir: join(root, 'egress'),
    egressSocket: join(root, 'egress', 'proxy.sock'),
    etcDir: join(root, 'etc'),
    envdConfig: join(root, 'envd.json'),
    bwrapArgs: join(root, 'bwrap.args'),
    log: join(root, 'sandbox.log'),
    record: join(root, 'running.json'),
  };
}
