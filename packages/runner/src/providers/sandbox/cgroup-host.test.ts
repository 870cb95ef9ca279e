import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunnerClass } from '@hangar/api';
import { detectCgroupHost, parseCgroupMounts } from './cgroup-host.js';
import { cgroupDirs, limitsCondition } from './cgroups.js';

const hybrid = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '50 23 0:40 / /mnt/with\\040space rw - cgroup cgroup rw,freezer',
].join('\n');

const limits: RunnerClass = { name: 'small', cpu: 2, memoryMiB: 1024, pids: 512 };

test('mountinfo parsing finds cgroup mounts and their controllers', () => {
  const mounts = parseCgroupMounts(hybrid);
  assert.equal(mounts.length, 5);
  assert.deepEqual(mounts[0], {
    mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
    fsType: 'cgroup',
    superOptions: ['rw', 'cpu', 'cpuacct'],
  });
  assert.equal(mounts[4]?.mountPoint, '/mnt/with space');
});

test('a hybrid host without v2 controllers uses the v1 mounts', () => {
  const host = detectCgroupHost({ mountinfo: hybrid, isRoot: true });
  assert.deepEqual(host, {
    version: 'v1',
    mounts: {
      cpu: '/sys/fs/cgroup/cpu,cpuacct',
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
    },
  });
  assert.deepEqual(cgroupDirs(host, 'hangar', 'env_1'), [
    '/sys/fs/cgroup/cpu,cpuacct/hangar/env_1',
    '/sys/fs/cgroup/memory/hangar/env_1',
    '/sys/fs/cgroup/pids/hangar/env_1',
  ]);
});

test('this machine offers cpu, memory and pids to root, through v1 or v2', () => {
  const host = detectCgroupHost();
  assert.notEqual(host.version, 'none', host.version === 'none' ? host.reason : '');
  if (host.version === 'v1') {
    assert.deepEqual(Object.keys(host.mounts).sort(), ['cpu', 'memory', 'pids']);
  }
});

test('without root or without controllers, the condition says plainly what is missing', () => {
  const unprivileged = detectCgroupHost({ mountinfo: hybrid, isRoot: false });
  const notRoot = limitsCondition({ host: unprivileged, cgroups: undefined, limits });
  assert.equal(notRoot.status, 'false');
  assert.equal(notRoot.reason, 'CgroupsUnavailable');
  assert.match(notRoot.message, /not enforced: the runner does not run as root/);

  const bare = detectCgroupHost({ mountinfo: '1 0 0:1 / / rw - ext4 /dev/sda rw', isRoot: true });
  const none = limitsCondition({ host: bare, cgroups: undefined, limits });
  assert.match(none.message, /no cgroup v2 hierarchy .* and no cgroup v1 .* is mounted/);

  const host = detectCgroupHost({ mountinfo: hybrid, isRoot: true });
  const partial = limitsCondition({
    host,
    cgroups: { version: 'v1', dirs: ['/sys/fs/cgroup/memory/hangar/e'], enforced: ['memory'] },
    limits,
  });
  assert.equal(partial.reason, 'CgroupsPartial');
  assert.match(partial.message, /the cpu, pids controller is not mounted/);
  const full = limitsCondition({
    host,
    cgroups: { version: 'v1', dirs: [], enforced: ['cpu', 'memory', 'pids'] },
    limits,
  });
  assert.deepEqual([full.status, full.reason], ['true', 'CgroupV1']);
});
