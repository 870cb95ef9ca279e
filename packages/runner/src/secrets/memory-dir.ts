import { createHash } from 'node:crypto';
import { chown, lstat, mkdir, readdir, rm, rmdir, statfs, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** statfs types of file systems that keep their files in memory. */
const memoryFsTypes = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);

/** A file handed to one environment from memory: its host path and its path inside. */
export interface MemoryFile {
  source: string;
  dest: string;
}

async function isMemoryFs(path: string): Promise<boolean> {
  try {
    return memoryFsTypes.has((await statfs(path)).type);
  } catch {
    return false;
  }
}

/**
 * The runner's folder on a memory file system (/dev/shm, else $XDG_RUNTIME_DIR): secret files
 * bound into environments and the credential files of clones live here, so no secret touches a
 * disk. Its name is fixed per data directory, so files of sandboxes that outlive a runner
 * restart are still found (removing one would unmount it inside its sandbox). A folder of that
 * name that is not this user's own, or is writable by others, is refused.
 */
export class MemoryDir {
  private constructor(readonly path: string) {}

  static async open(dataDir: string): Promise<MemoryDir | undefined> {
    const name = `hangar-runner-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`;
    const roots = ['/dev/shm', process.env['XDG_RUNTIME_DIR']].filter(
      (root): root is string => typeof root === 'string' && root.startsWith('/'),
    );
    for (const root of roots) {
      if (!(await isMemoryFs(root))) continue;
      const path = join(root, name);
      await mkdir(path, { mode: 0o711 }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
      const stats = await lstat(path);
      const ownUid = process.getuid?.() ?? stats.uid;
      if (!stats.isDirectory() || stats.uid !== ownUid || (stats.mode & 0o022) !== 0) {
        throw new Error(
          `${path} exists but is not a private folder of this user; remove it and restart the ` +
            'runner',
        );
      }
      return new MemoryDir(path);
    }
    return undefined;
  }

  /** A folder for one purpose (`git`, an environment), traversable by the sandbox user only. */
  async folder(...parts: string[]): Promise<string> {
    let path = this.path;
    for (const part of parts) {
      path = join(path, part);
      await mkdir(path, { mode: 0o711 }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
    }
    return path;
  }

  /**
   * Writes an environment's files afresh (mode 0400, owned by `owner`, which the sandbox maps to
   * the environment's user). Call only while its sandbox is not running.
   */
  async writeEnvironmentFiles(
    environmentId: string,
    files: Array<{ dest: string; data: Buffer }>,
    owner: { uid: number; gid: number } | undefined,
  ): Promise<MemoryFile[]> {
    await this.removeEnvironment(environmentId);
    if (files.length === 0) return [];
    const dir = await this.folder('environments', environmentId);
    const written: MemoryFile[] = [];
    for (const [index, file] of files.entries()) {
      const source = join(dir, String(index));
      await writeFile(source, file.data, { mode: 0o400, flag: 'wx' });
      if (owner) await chown(source, owner.uid, owner.gid);
      written.push({ source, dest: file.dest });
    }
    return written;
  }

  /**
   * Removes the folders that hold no file any more, this runner's own folder included, so a
   * runner that stops leaves nothing behind on the memory file system. Files stay: those of
   * sandboxes still running are mounted inside them.
   */
  async removeEmptyFolders(): Promise<void> {
    await removeEmptyTree(this.path);
  }

  /** Removes an environment's files: once its sandbox has stopped. */
  async removeEnvironment(environmentId: string): Promise<void> {
    await rm(join(this.path, 'environments', environmentId), { recursive: true, force: true });
  }
}

async function removeEmptyTree(path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await removeEmptyTree(join(path, entry.name));
  }
  await rmdir(path).catch(() => undefined);
}
