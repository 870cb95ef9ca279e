import { constants, fstatSync, lstatSync, readSync, readdirSync, type Stats } from 'node:fs';
import { EnvdError, fileError } from './errors.js';
import { closeQuietly, fdPath, openInside, type PathRules } from './paths.js';
import type { DirEntryBody } from './protocol.js';

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
