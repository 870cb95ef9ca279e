import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HangarError } from '@hangar/api';
import { hostRootEntries } from './bwrap-args.js';

const run = promisify(execFile);

/** What the sandbox provider found on this host. */
export interface HostTools {
  bwrapPath: string;
  bwrapVersion: string;
  /** Present when the runner is root: it drops to the sandbox user before bwrap. */
  setprivPath: string | undefined;
  /** bubblewrap 0.8 and later can stop processes inside from creating user namespaces. */
  disableUserns: boolean;
}

export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

function missing(message: string): HangarError {
  return new HangarError('runner_unavailable', message);
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [maj = 0, min = 0] = version.split('.').map(Number);
  return maj > major || (maj === major && min >= minor);
}

/**
 * Finds bubblewrap (and setpriv when root) and proves that user namespaces work by starting a
 * throwaway sandbox as an unprivileged user. Throws a `HangarError` naming what is missing.
 */
export async function checkHostTools(options: {
  bwrapPath?: string;
  isRoot: boolean;
  envdPackageDir: string;
}): Promise<HostTools> {
  const systemDirs = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  const bwrapPath = options.bwrapPath ?? findExecutable('bwrap', systemDirs);
  if (bwrapPath === undefined || !existsSync(bwrapPath)) {
    throw missing(
      "bubblewrap (bwrap) is not installed; install Debian's `bubblewrap` package " +
        '(apt-get install bubblewrap) and restart the runner',
    );
  }
  const setprivPath = options.isRoot ? findExecutable('setpriv', systemDirs) : undefined;
  if (options.isRoot && setprivPath === undefined) {
    throw missing(
      "setpriv is not installed; the runner runs as root and needs it to drop to the sandbox's " +
        "user; install Debian's `util-linux` package",
    );
  }
  if (!existsSync(join(options.envdPackageDir, 'dist', 'main.js'))) {
    throw new HangarError(
      'internal',
      `envd is not built (no ${options.envdPackageDir}/dist/main.js); run ` +
        '`npx tsc -b packages/envd` and restart the runner',
    );
  }
  const bwrapVersion = await versionOf(bwrapPath);
  await probeUserNamespaces(bwrapPath, setprivPath);
  return {
    bwrapPath,
    bwrapVersion,
    setprivPath,
    disableUserns: versionAtLeast(bwrapVersion, 0, 8),
  };
}

async function versionOf(bwrapPath: string): Promise<string> {
  try {
    const { stdout } = await run(bwrapPath, ['--version'], { timeout: 10_000 });
    return stdout.trim().replace(/^bubblewrap\s+/, '');
  } catch (error: unknown) {
    throw missing(
      `${bwrapPath} does not run (${error instanceof Error ? error.message : String(error)}); ` +
        "reinstall Debian's `bubblewrap` package",
    );
  }
}

/** The smallest sandbox: if this fails, no environment can start. */
async function probeUserNamespaces(bwrapPath: string, setprivPath: string | undefined) {
  const rootArgs = hostRootEntries().flatMap((entry) =>
    entry.kind === 'bind'
      ? ['--ro-bind', entry.path, entry.path]
      : ['--symlink', entry.target, entry.path],
  );
  const bwrap = [bwrapPath, '--unshare-all', '--die-with-parent', ...rootArgs, '--proc', '/proc'];
  const command = setprivPath
    ? [setprivPath, '--reuid=65534', '--regid=65534', '--clear-groups', '--', ...bwrap]
    : bwrap;
  const [program, ...args] = command as [string, ...string[]];
  try {
    await run(program, [...args, '--', '/bin/true'], { timeout: 10_000 });
  } catch (error: unknown) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const said = typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(error);
    throw missing(
      `bubblewrap cannot create a sandbox here: user namespaces are not usable (bwrap said: ` +
        `${said}). Allow unprivileged user namespaces ` +
        '(sysctl kernel.unprivileged_userns_clone=1, ' +
        "user.max_user_namespaces > 0) and install Debian's `bubblewrap` package",
    );
  }
}
