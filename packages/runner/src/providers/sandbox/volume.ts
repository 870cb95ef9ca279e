import {
  chmodSync,
  chownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a directory the sandbox's user owns (when the runner is root; otherwise the runner's
 * own user does, which is who the sandbox runs as on the host). Existing content is kept; only
 * the directory itself is handed over, so a large volume costs nothing at each start.
 */
export function prepareOwnedDir(dir: string, owner: { uid: number; gid: number }): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() !== 0) return;
  const stats = statSync(dir);
  if (stats.uid !== owner.uid || stats.gid !== owner.gid) chownSync(dir, owner.uid, owner.gid);
}

/**
 * Hands a whole tree to `owner`, e.g. a volume the runner filled as root before the start.
 * Symlinks are changed themselves, never followed.
 */
export function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  const stats = lstatSync(dir);
  if (stats.uid !== owner.uid || stats.gid !== owner.gid) lchownSync(dir, owner.uid, owner.gid);
  if (!stats.isDirectory()) return;
  for (const name of readdirSync(dir)) chownTree(join(dir, name), owner);
}

/**
 * Deletes a tree the sandbox wrote, including directories it made unwritable (mode 000), which
 * stop a plain recursive delete when the runner is not root. Missing is fine.
 */
export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    makeWritable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function makeWritable(dir: string): void {
  let stats;
  try {
    stats = lstatSync(dir);
  } catch {
    return;
  }
  if (!stats.isDirectory()) return;
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) makeWritable(join(dir, name));
}

/** Deletes a workspace volume; for the runner, which owns volumes, once it deletes one. */
export function removeWorkspaceVolume(dir: string): void {
  removeTree(dir);
}
