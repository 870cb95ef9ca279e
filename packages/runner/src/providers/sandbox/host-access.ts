import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HangarError } from '@hangar/api';

export interface HostIdentity {
  uid: number;
  gids: number[];
}

function canSearch(dir: string, who: HostIdentity): { ok: boolean; mode: number; uid: number } {
  const stats = statSync(dir);
  const mode = stats.mode & 0o777;
  let bit = 0o001;
  if (stats.uid === who.uid) bit = 0o100;
  else if (who.gids.includes(stats.gid)) bit = 0o010;
  return { ok: (mode & bit) !== 0, mode, uid: stats.uid };
}

/**
 * bubblewrap runs as the sandbox's user on the host, so every source it mounts must be reachable
 * by that user. Throws a `HangarError` naming the first directory that is not.
 */
export function assertReachable(paths: string[], who: HostIdentity): void {
  if (who.uid === 0) return;
  const checked = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); !checked.has(dir); dir = dirname(dir)) {
      checked.add(dir);
      const result = canSearch(dir, who);
      if (!result.ok) {
        throw new HangarError(
          'internal',
          `${dir} (mode ${result.mode.toString(8).padStart(4, '0')}, owner uid ${result.uid}) ` +
            `cannot be searched by uid ${who.uid}, the sandbox's user on the host, so bubblewrap ` +
            `cannot mount ${path}; run \`chmod o+x ${dir}\` or move the runner's data dir`,
        );
      }
      if (dir === '/') break;
    }
  }
}
