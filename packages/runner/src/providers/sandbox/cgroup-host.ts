import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Controller = 'cpu' | 'memory' | 'pids';

export const controllers: readonly Controller[] = ['cpu', 'memory', 'pids'];

/** What the host offers for limits: one unified hierarchy, v1 controller mounts, or nothing. */
export type CgroupHost =
  | { version: 'v2'; mount: string }
  | { version: 'v1'; mounts: Partial<Record<Controller, string>> }
  | { version: 'none'; reason: string };

interface CgroupMount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes spaces and a few other bytes as `\ooo`. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_match, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const mountPoint = before[4];
    const fsType = after[0];
    if (mountPoint === undefined || (fsType !== 'cgroup' && fsType !== 'cgroup2')) continue;
    mounts.push({
      mountPoint: unescapeMountPath(mountPoint),
      fsType,
      superOptions: (after[2] ?? '').split(','),
    });
  }
  return mounts;
}

function v2Controllers(mountPoint: string): string[] {
  try {
    return readFileSync(join(mountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

/**
 * Prefers a unified (v2) hierarchy that offers cpu, memory and pids; otherwise uses whatever v1
 * controllers are mounted. Creating cgroups needs root, so an unprivileged runner gets `none`.
 */
export function detectCgroupHost(
  options: { mountinfo?: string; isRoot?: boolean } = {},
): CgroupHost {
  // Known gap: an unprivileged runner given a delegated cgroup v2 subtree (systemd Delegate=yes)
  // could enforce limits too; it is treated like any unprivileged runner and runs without them.
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    return {
      version: 'none',
      reason:
        'the runner does not run as root, so it cannot create cgroups; run it as root to ' +
        'enforce the class limits',
    };
  }
  let text: string;
  try {
    text = options.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return { version: 'none', reason: '/proc/self/mountinfo is not readable' };
  }
  const mounts = parseCgroupMounts(text);
  for (const mount of mounts.filter((item) => item.fsType === 'cgroup2')) {
    const available = v2Controllers(mount.mountPoint);
    if (controllers.every((name) => available.includes(name))) {
      return { version: 'v2', mount: mount.mountPoint };
    }
  }
  const v1: Partial<Record<Controller, string>> = {};
  for (const mount of mounts.filter((item) => item.fsType === 'cgroup')) {
    for (const name of controllers) {
      if (mount.superOptions.includes(name) && v1[name] === undefined) v1[name] = mount.mountPoint;
    }
  }
  if (Object.keys(v1).length > 0) return { version: 'v1', mounts: v1 };
  return {
    version: 'none',
    reason:
      'no cgroup v2 hierarchy with the cpu, memory and pids controllers and no cgroup v1 ' +
      'cpu, memory or pids controller is mounted (see /proc/self/mountinfo); mount them to ' +
      'enforce the class limits',
  };
}
