import { constants } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { HangarError } from '@hangar/api';
import { isInside, type LocatedDevcontainer } from './locate.js';

/** A devcontainer.json larger than this is refused rather than read. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function refuse(filePath: string, reason: string): HangarError {
  const message = `Cannot read the devcontainer config ${filePath}: ${reason}.`;
  return new HangarError('devcontainer_invalid', message, { details: { path: filePath } });
}

/** Where an open file really is, from the kernel, so a symlink swapped in after the check shows. */
async function openedPath(handle: FileHandle, fallback: string): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return realpath(fallback);
  }
}

/**
 * Reads a located config as UTF-8 text. The file is opened without following a final symlink
 * and without blocking (a FIFO cannot stall the runner), and checked again once open: it must be
 * a regular file inside the workspace folder and at most `maxBytes` long.
 */
export async function readDevcontainerFile(
  located: LocatedDevcontainer,
  options: { maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  let handle: FileHandle;
  try {
    handle = await open(located.realPath, flags);
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw refuse(located.path, `the file could not be opened (${code}); check it exists`);
  }
  try {
    const actual = await openedPath(handle, located.realPath);
    if (!isInside(located.workspaceRealDir, actual)) {
      throw refuse(located.path, 'it moved outside the repository while being read');
    }

    const stats = await handle.stat();
    if (!stats.isFile()) throw refuse(located.path, 'it is not a regular file');
    if (stats.size > maxBytes) {
      throw refuse(located.path, `it is ${stats.size} bytes, more than the ${maxBytes} allowed`);
    }

    const buffer = Buffer.allocUnsafe(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw refuse(located.path, 'it grew while being read');
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}
