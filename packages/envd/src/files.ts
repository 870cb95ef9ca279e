import {
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  writeSync,
  type Stats,
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
import type { DirEntryBody } from './protocol.js';

const MAX_LINK_HOPS = 16;

/** An open regular file to stream out; the caller closes `fd`. */
export interface OpenedFile {
  fd: number;
  size: number;
  mode: number;
}

export function openForRead(input: string, rules: PathRules, maxBytes: number): OpenedFile {
  const fd = openInside(input, rules);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw fileError({ code: 'EISDIR' }, input);
    if (!stats.isFile()) {
      throw new EnvdError('invalid_request', `${input} is not a regular file`);
    }
    if (stats.size > maxBytes) throw tooLarge(input, stats.size, maxBytes);
    return { fd, size: stats.size, mode: stats.mode & 0o7777 };
  } catch (error: unknown) {
    closeQuietly(fd);
    throw error;
  }
}

export function tooLarge(input: string, size: number, maxBytes: number): EnvdError {
  return new EnvdError(
    'payload_too_large',
    `${input} holds ${size} bytes, more than the ${maxBytes} allowed; read a smaller file`,
  );
}

/** Reads the next chunk of an opened file; an empty buffer means the end. */
export function readChunk(fd: number, chunkBytes: number): Buffer {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const bytesRead = readSync(fd, buffer, 0, chunkBytes, null);
  return buffer.subarray(0, bytesRead);
}

/** Checks early that a write to `input` could be allowed, before its data arrives. */
export function precheckWrite(input: string, rules: PathRules): void {
  const absolute = resolveLexical(input, rules);
  if (rules.roots.includes(absolute)) throw fileError({ code: 'EISDIR' }, input);
}

/**
 * Writes `data` to `input`, creating missing parent directories. Each directory is opened
 * relative to the one before; the file is opened without following a final symlink, and a
 * symlink is followed only when its target is itself an allowed path.
 */
export function writeFileInside(
  input: string,
  data: Buffer,
  rules: PathRules,
  mode: number | undefined,
): void {
  let target = resolveLexical(input, rules);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop += 1) {
    const next = writeOnce(target, input, data, rules, mode);
    if (next === undefined) return;
    target = resolveLexical(next, rules);
  }
  throw fileError({ code: 'ELOOP' }, input);
}

/** Writes and returns undefined, or returns the absolute target of a final symlink. */
function writeOnce(
  absolute: string,
  input: string,
  data: Buffer,
  rules: PathRules,
  mode: number | undefined,
): string | undefined {
  if (rules.roots.includes(absolute)) throw fileError({ code: 'EISDIR' }, input);
  const dirFd = openParent(posix.dirname(absolute), input, rules);
  const name = posix.basename(absolute);
  try {
    let fd: number;
    try {
      fd = openSync(
        fdPath(dirFd, name),
        constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        (mode ?? 0o644) & 0o777,
      );
    } catch (error: unknown) {
      if (!isErrno(error, 'ELOOP')) throw fileError(error, input);
      const link = readlinkSync(fdPath(dirFd, name));
      return posix.resolve(readlinkSync(fdPath(dirFd)), link);
    }
    try {
      assertFdInside(fd, input, rules);
      if (!fstatSync(fd).isFile()) {
        throw new EnvdError('invalid_request', `${input} is not a regular file`);
      }
      ftruncateSync(fd, 0);
      for (let offset = 0; offset < data.length; ) {
        offset += writeSync(fd, data, offset, data.length - offset);
      }
      if (mode !== undefined) fchmodSync(fd, mode & 0o777);
    } catch (error: unknown) {
      throw fileError(error, input);
    } finally {
      closeQuietly(fd);
    }
    return undefined;
  } finally {
    closeQuietly(dirFd);
  }
}

/** Opens directory `absolute`, creating the missing part of it one checked step at a time. */
function openParent(absolute: string, input: string, rules: PathRules): number {
  const missing: string[] = [];
  let existing = absolute;
  while (!exists(existing)) {
    missing.unshift(posix.basename(existing));
    existing = posix.dirname(existing);
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

function exists(absolute: string): boolean {
  try {
    lstatSync(absolute);
    return true;
  } catch {
    return false;
  }
}

export function listDirInside(input: string, rules: PathRules): DirEntryBody[] {
  const dirFd = openInside(input, rules, { flags: constants.O_DIRECTORY });
  try {
    const names = readdirSync(fdPath(dirFd));
    const entries: DirEntryBody[] = [];
    for (const name of names) {
      let stats: Stats;
      try {
        stats = lstatSync(fdPath(dirFd, name));
      } catch {
        continue;
      }
      entries.push({
        name,
        type: entryType(stats),
        size: stats.size,
        mode: stats.mode & 0o7777,
        mtimeMs: stats.mtimeMs,
      });
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error: unknown) {
    throw fileError(error, input);
  } finally {
    closeQuietly(dirFd);
  }
}

function entryType(stats: Stats): DirEntryBody['type'] {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}
