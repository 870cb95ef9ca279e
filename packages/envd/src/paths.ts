import { closeSync, constants, openSync, readlinkSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { EnvdError, fileError } from './errors.js';

/**
 * Path rules for file operations. A path is first resolved lexically (relative to the workspace
 * folder, `..` folded) and must land inside one of the roots; then the object actually opened is
 * checked again through `/proc/self/fd`, so a symlink, or one swapped in between the check and the
 * open, cannot lead outside. Children are opened relative to an open directory through
 * `/proc/self/fd/<fd>/<name>`, which behaves like `openat(2)`.
 */
export interface PathRules {
  workspaceFolder: string;
  roots: string[];
}

const MAX_PATH_CHARS = 4096;

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root === '/' ? '/' : `${root}/`);
}

export function outside(input: string, roots: string[]): EnvdError {
  return new EnvdError(
    'path_outside_environment',
    `${input} is outside the environment's writable areas (${roots.join(', ')}); ` +
      'use a path inside one of them',
  );
}

/** The absolute path `input` names, refused unless it lies inside a root. */
export function resolveLexical(input: string, rules: PathRules): string {
  if (typeof input !== 'string' || input.length === 0) {
    throw new EnvdError('invalid_request', 'a path is required');
  }
  if (input.length > MAX_PATH_CHARS || input.includes('\0')) {
    throw new EnvdError('invalid_request', 'the path is too long or contains a NUL byte');
  }
  const absolute = posix.resolve(rules.workspaceFolder, input);
  if (!rules.roots.some((root) => isInside(absolute, root))) throw outside(input, rules.roots);
  return absolute;
}

export function fdPath(fd: number, child?: string): string {
  return child === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${child}`;
}

/** Refuses `fd` unless what it refers to lies inside a root. */
export function assertFdInside(fd: number, input: string, rules: PathRules): void {
  const real = readlinkSync(fdPath(fd));
  if (!rules.roots.some((root) => isInside(real, root))) throw outside(input, rules.roots);
}

/** Follows every symlink in `absolute` and refuses the result unless it lies inside a root. */
export function realInside(absolute: string, input: string, rules: PathRules): string {
  let real: string;
  try {
    real = realpathSync(absolute);
  } catch (error: unknown) {
    throw fileError(error, input);
  }
  if (!rules.roots.some((root) => isInside(real, root))) throw outside(input, rules.roots);
  return real;
}

const openFlagsNoSideEffects = constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Opens an existing path inside the roots: symlinks are followed only while they stay inside, and
 * the opened object is checked again. `flags` are added to the read-only, no-follow open.
 */
export function openInside(
  path: string,
  rules: PathRules,
  options: { flags?: number; input?: string } = {},
): number {
  const input = options.input ?? path;
  const real = realInside(resolveLexical(path, rules), input, rules);
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | openFlagsNoSideEffects | (options.flags ?? 0));
  } catch (error: unknown) {
    throw fileError(error, input);
  }
  try {
    assertFdInside(fd, input, rules);
  } catch (error: unknown) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed or never valid: nothing left to release.
  }
}
