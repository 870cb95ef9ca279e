import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { detectCgroupHost } from './cgroup-host.js';
import { cgroupPids } from './cgroups.js';
import { environmentPaths } from './layout.js';
import { readRecord, type RunningRecord } from './records.js';
import { envdHostPid } from './teardown.js';
import { run, sandboxFixture, type SandboxFixture } from './test-support.js';

let fixture: SandboxFixture;

before(() => {
  fixture = sandboxFixture();
});

after(async () => {
  await fixture.cleanup();
});

function recordOf(environmentId: string): RunningRecord {
  const record = readRecord(environmentPaths(fixture.dataDir, environmentId).record);
  assert.ok(record, 'a running sandbox has a record');
  return record;
}

const host = detectCgroupHost();

function cgroupDir(record: RunningRecord, controller: string): string {
  const dir =
    host.version === 'v2'
      ? record.cgroupDirs[0]
      : record.cgroupDirs.find((item) => item.includes(`/${controller}/`));
  assert.ok(dir, `a ${controller} cgroup exists`);
  return dir;
}

const readCgroup = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

/** The limit files of the host's cgroup version: v1 names first, v2 names second. */
const files = {
  cpu: host.version === 'v2' ? 'cpu.max' : 'cpu.cfs_quota_us',
  memory: host.version === 'v2' ? 'memory.max' : 'memory.limit_in_bytes',
  oomKills: host.version === 'v2' ? 'memory.events' : 'memory.oom_control',
};

const skip = host.version === 'none' ? `no cgroups here: ${host.reason}` : false;

test(
  'the class sets cpu, memory and pids limits through cgroups, from the first process',
  { skip },
  async () => {
    const spec = fixture.spec({ classLimits: { cpu: 0.5, memoryMiB: 256, pids: 100 } });
    const { conditions } = await fixture.provider.start(spec);
    assert.deepEqual(
      conditions.map(({ type, status, reason }) => ({ type, status, reason })),
      [
        {
          type: 'LimitsEnforced',
          status: 'true',
          reason: host.version === 'v2' ? 'CgroupV2' : 'CgroupV1',
        },
      ],
    );
    const record = recordOf(spec.environmentId);
    const cpu = readCgroup(cgroupDir(record, 'cpu'), files.cpu);
    assert.equal(cpu, host.version === 'v2' ? '50000 100000' : '50000');
    assert.equal(readCgroup(cgroupDir(record, 'memory'), files.memory), String(256 << 20));
    assert.equal(readCgroup(cgroupDir(record, 'pids'), 'pids.max'), '100');
    assert.ok(record.keeperPid);
    const envdPid = envdHostPid(record.keeperPid);
    assert.ok(envdPid !== undefined);
    for (const dir of record.cgroupDirs) {
      const members = cgroupPids([dir]);
      assert.ok(members.includes(record.keeperPid), `the keeper is in ${dir}`);
      assert.ok(members.includes(envdPid), `envd is in ${dir}`);
    }
  },
);

test(
  'a process over its memory limit is killed and the environment lives on',
  { skip },
  async () => {
    const spec = fixture.spec({ classLimits: { memoryMiB: 128 } });
    await fixture.provider.start(spec);
    const client = await fixture.provider.connect(spec.environmentId);
    try {
      const hog =
        'const b = Buffer.allocUnsafe(512 * 1024 * 1024); b.fill(1); process.stdout.write("survived\\n")';
      const result = await run(client, ['/run/hangar/node', '-e', hog], { timeoutMs: 60_000 });
      assert.equal(result.outcome.signal, 'SIGKILL');
      assert.equal(result.outcome.timedOut, false);
      assert.ok(!result.stdout.toString().includes('survived'));
      const memory = cgroupDir(recordOf(spec.environmentId), 'memory');
      assert.match(readCgroup(memory, files.oomKills), /oom_kill [1-9]/);
      const after = await run(client, ['echo', 'still here']);
      assert.equal(after.stdout.toString(), 'still here\n');
    } finally {
      client.close();
    }
  },
);

test('the pids limit holds: forks beyond it fail', { skip }, async () => {
  const spec = fixture.spec({ classLimits: { pids: 64 } });
  await fixture.provider.start(spec);
  const client = await fixture.provider.connect(spec.environmentId);
  try {
    const script = 'for i in $(seq 100); do sleep 30 & done; echo forked';
    const result = await run(client, ['sh', '-c', script], { timeoutMs: 20_000 });
    assert.match(result.stderr.toString(), /fork|Resource temporarily unavailable/i);
    const pids = cgroupDir(recordOf(spec.environmentId), 'pids');
    assert.ok(Number(readCgroup(pids, 'pids.current')) <= 64);
    assert.match(readCgroup(pids, 'pids.events'), /^max [1-9]/m);
    await run(client, ['pkill', 'sleep']);
  } finally {
    client.close();
  }
});
