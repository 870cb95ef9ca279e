import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The folder that holds an environment's proxy socket, bound read-only into its sandbox (the
 * folder, not the socket, so a socket made again after a runner restart shows inside). It
 * belongs to the runner and only the sandbox's group may enter it; the sandbox cannot replace
 * what is in it. Parents are made traversable (0711) as the sandbox layout expects.
 */
export function prepareEgressDir(dir: string, sandboxUser?: { uid: number; gid: number }): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o711 });
  mkdirSync(dir, { recursive: true, mode: 0o710 });
  if (sandboxUser && process.getuid?.() === 0) chownSync(dir, 0, sandboxUser.gid);
  chmodSync(dir, 0o710);
}
