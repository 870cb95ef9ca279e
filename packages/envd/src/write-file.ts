import {
  constants,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { posix } from 'node:path';
import { EnvdError, fileError, isErrno } from './errors.js';
import {
  assertFdInside,
  closeQuietly,
  fdPath,
  openInside,
  resolveLexical,
  type PathRules,
} from './paths.js';

const MAX_LINK_HOPS = 16;

/** A write in progress: bytes go to a temporary file beside the target, renamed over it last. */
export interface PendingWrite {
  write(chunk: Buffer): void;
  /** Puts the new content in place in one rename. */
  commit(): void;
  /** Leaves the target as it was and removes the temporary file. */
  abort(): void;
}

/**
 * Starts a write to `input`: missing parent directories are created, each opened relative to
 * the one before; a final symlink is followed only while its target is itself an allowed path.
 * Nothing is visible at the target until `commit`, so a broken upload changes nothing.
 */
export function beginWrite(
  input: string,
  rules: PathRules,
  mode: number | undefined,
): PendingWrite {
  const target = openTarget(input, rules);
  const tempName = `.hangar-write-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let fd: number;
  try {
    fd = openSync(
      fdPath(target.dirFd, tempName),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error: unknown) {
    closeQuietly(target.dirFd);
    throw fileError(error, input);
  }
  let open = true;
  const release = (): void => {
    if (!open) return;
    open = false;
    closeQuietly(fd);
    closeQuietly(target.dirFd);
  };
  const discard = (): void => {
    if (!open) return;
    try {
      unlinkSync(fdPath(target.dirFd, tempName));
    } catch {
      // Already gone: nothing to tidy.
    }
    release();
  };
  const fail = (error: unknown): never => {
    discard();
    throw fileError(error, input);
  };
  return {
    write(chunk) {
      try {
        for (let offset = 0; offset < chunk.length;) {
          offset += writeSync(fd, chunk, offset, chunk.length - offset);
        }
      } catch (error: unknown) {
        fail(error);
      }
    },
    commit() {
      try {
        fchmodSync(fd, (mode ?? target.existingMode ?? 0o644) & 0o777);
        renameSync(fdPath(target.dirFd, tempName), fdPath(target.dirFd, target.name));
        release();
      } catch (error: unknown) {
        fail(error);
      }
    },
    abort: discard,
  };
}

/** Writes `data` to `input` in one go; see {@link beginWrite}. */
export function writeFileInside(
  input: string,
  data: Buffer,
  rules: PathRules,
  mode: number | undefined,
): void {
  const pending = beginWrite(input, rules, mode);
  pending.write(data);
  pending.commit();
}

interface Target {
  dirFd: number;
  name: string;
  existingMode: number | undefined;
}

/** The directory (open) and name a write lands on, after following allowed symlinks. */
function openTarget(input: string, rules: PathRules): Target {
  let absolute = resolveLexical(input, rules);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop += 1) {
    if (rules.roots.includes(absolute)) throw fileError({ code: 'EISDIR' }, input);
    const dirFd = openParent(posix.dirname(absolute), input, rules);
    const name = posix.basename(absolute);
    try {
      const stats = lstatSync(fdPath(dirFd, name), { throwIfNoEntry: false });
      if (stats === undefined) return { dirFd, name, existingMode: undefined };
      if (stats.isFile()) return { dirFd, name, existingMode: stats.mode & 0o777 };
      if (stats.isDirectory()) throw fileError({ code: 'EISDIR' }, input);
      if (!stats.isSymbolicLink()) {
        throw new EnvdError('invalid_request', `${input} is not a regular file`);
      }
      const link = readlinkSync(fdPath(dirFd, name));
      absolute = resolveLexical(posix.resolve(readlinkSync(fdPath(dirFd)), link), rules);
    } catch (error: unknown) {
      closeQuietly(dirFd);
      throw error instanceof EnvdError ? error : fileError(error, input);
    }
    closeQuietly(dirFd);
  }
  throw fileError({ code: 'ELOOP' }, input);
}

/** Opens directory `absolute`, creating the missing part of it one checked step at a time. */
function openParent(absolute: string, input: string, rules: PathRules): number {
  const missing: string[] = [];
  let existing = absolute;
  try {
    while (lstatSync(existing, { throwIfNoEntry: false }) === undefined) {
      missing.unshift(posix.basename(existing));
      existing = posix.dirname(existing);
    }
  } catch (error: unknown) {
    throw fileError(error, input);
  }
  let dirFd = openInside(existing, rules, { flags: constants.O_DIRECTORY, input });
  try {
    for (const name of missing) {
      try {
        mkdirSync(fdPath(dirFd, name), 0o755);
      } catch (error: unknown) {
        if (!isErrno(error, 'EEXIST')) throw error;
      }
      const childFd = openSync(
        fdPath(dirFd, name),
        constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
      );
      closeQuietly(dirFd);
      dirFd = childFd;
      assertFdInside(dirFd, input, rules);
    }
    return dirFd;
  } catch (error: unknown) {
    closeQuietly(dirFd);
    throw fileError(error, input);
  }
}
