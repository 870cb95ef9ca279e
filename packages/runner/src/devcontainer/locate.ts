import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { HangarError } from '@hangar/api';

/** Where a config is looked for when none is named, in order. */
export const DEFAULT_CONFIG_PATHS = ['.devcontainer/devcontainer.json', '.devcontainer.json'];

export interface LocateDevcontainerOptions {
  /** The workspace folder (the repository's root) on the runner host. */
  workspaceDir: string;
  /** A path relative to the workspace folder, from the environment's spec. */
  configPath?: string;
}

export interface LocatedDevcontainer {
  /** The config's absolute path as found under the workspace folder (symlinks not resolved). */
  path: string;
  /** The same file with every symlink resolved; it lies inside `workspaceRealDir`. */
  realPath: string;
  /** The workspace folder with every symlink resolved. */
  workspaceRealDir: string;
}

function refuse(configPath: string, reason: string, next: string): HangarError {
  const message = `The devcontainer path ${JSON.stringify(configPath)} ${reason}; ${next}.`;
  return new HangarError('devcontainer_invalid', message, { details: { path: configPath } });
}

/** True when `target` is `root` itself or lies below it; both must be resolved paths. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  if (relative === '') return true;
  if (path.isAbsolute(relative)) return false;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`);
}

/** Checks a path from the spec and returns it joined to the workspace folder. */
function explicitPath(workspaceDir: string, configPath: string): string {
  const next =
    'give a path relative to the repository root, such as .devcontainer/devcontainer.json';
  if (configPath === '' || configPath.includes('\0')) {
    throw refuse(configPath, 'is empty or holds a NUL byte', next);
  }
  if (path.isAbsolute(configPath)) throw refuse(configPath, 'is absolute', next);
  const joined = path.join(workspaceDir, configPath);
  if (!isInside(workspaceDir, joined)) throw refuse(configPath, 'leaves the repository', next);
  if (joined === workspaceDir) throw refuse(configPath, 'names the repository root', next);
  return joined;
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await lstat(filePath);
    return true;
  } catch (error: unknown) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return false;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Resolves symlinks and refuses a file that resolves outside the workspace folder. */
async function containedRealPath(options: {
  workspaceRealDir: string;
  filePath: string;
  shown: string;
}): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(options.filePath);
  } catch (error: unknown) {
    if (!isCode(error, 'ENOENT') && !isCode(error, 'ELOOP')) throw error;
    const reason = 'is a symbolic link whose target does not exist or loops';
    throw refuse(options.shown, reason, 'point it at a file in the repository');
  }
  if (!isInside(options.workspaceRealDir, resolved) || resolved === options.workspaceRealDir) {
    const reason = 'resolves through a symbolic link to a place outside the repository';
    throw refuse(options.shown, reason, 'keep the config inside the repository');
  }
  return resolved;
}

/**
 * Finds the devcontainer config of a workspace folder: the named relative path, else
 * `.devcontainer/devcontainer.json`, else `.devcontainer.json`. Returns null when no path is
 * named and neither default exists. A named path that does not exist, is absolute, leaves the
 * folder with `..`, or resolves outside it through a symlink is refused with
 * `devcontainer_invalid`, and so is a default path whose symlinks lead outside.
 */
export async function locateDevcontainer(
  options: LocateDevcontainerOptions,
): Promise<LocatedDevcontainer | null> {
  const workspaceDir = path.resolve(options.workspaceDir);
  const workspaceRealDir = await realpath(workspaceDir);

  if (options.configPath !== undefined) {
    const filePath = explicitPath(workspaceDir, options.configPath);
    if (!(await exists(filePath))) {
      const next = 'check the devcontainer path of the environment or add the file';
      throw refuse(options.configPath, 'does not exist in the repository', next);
    }
    const shown = options.configPath;
    const realPath = await containedRealPath({ workspaceRealDir, filePath, shown });
    return { path: filePath, realPath, workspaceRealDir };
  }

  for (const candidate of DEFAULT_CONFIG_PATHS) {
    const filePath = path.join(workspaceDir, candidate);
    if (!(await exists(filePath))) continue;
    const realPath = await containedRealPath({ workspaceRealDir, filePath, shown: candidate });
    return { path: filePath, realPath, workspaceRealDir };
  }
  return null;
}
