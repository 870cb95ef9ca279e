import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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

function cgroupDir(record: RunningRecord, controller: string): string {
  const dir = record.cgroupDirs.find((item) => item.includes(`/${controller}/`));
  assert.ok(dir, `a ${controller} cgroup exists`);
  return dir;
}

const readCgroup = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

test('the class sets cpu, memory and pids limits through cgroup v1, from the first process', async () => {
  const spec = fixture.spec({ classLimits: { cpu: 0.5, memoryMiB: 256, pids: 100 } });
  const { conditions } = await fixture.provider.start(spec);
  assert.deepEqual(
    conditions.map(({ type, status, reason }) => ({ type, status, reason })),
    [{ type: 'LimitsEnforced', status: 'true', reason: 'CgroupV1' }],
  );
  const record = recordOf(spec.environmentId);
  assert.equal(readCgroup(cgroupDir(record, 'cpu'), 'cpu.cfs_quota_us'), '50000');
  assert.equal(readCgroup(cgroupDir(record, 'cpu'), 'cpu.cfs_period_us'), '100000');
  assert.equal(readCgroup(cgroupDir(record, 'memory'), 'memory.limit_in_bytes'), String(256 << 20));
  assert.equal(readCgroup(cgroupDir(record, 'pids'), 'pids.max'), '100');
  assert.ok(record.keeperPid);
  const envdPid = envdHostPid(record.keeperPid);
  assert.ok(envdPid !== undefined);
  for (const dir of record.cgroupDirs) {
    const members = cgroupPids([dir]);
    assert.ok(members.includes(record.keeperPid), `the keeper is in ${dir}`);
    assert.ok(members.includes(envdPid), `envd is in ${dir}`);
  }
});

test('a process over its memory limit is killed and the environment lives on', async () => {
  const spec = fixture.spec({ classLimits: { memoryMiB: 128 } });
  await fixture.provider.start(spec);
  const client = await fixture.provider.connect(spec.environmentId);
  try {
    const hog =
      'const b = Buffer.allocUnsafe(512 * 1024 * 1024); b.fill(1); console.log("survived")';
    const result = await run(client, ['/run/hangar/node', '-e', hog], { timeoutMs: 60_000 });
    assert.equal(result.outcome.signal, 'SIGKILL');
    assert.equal(result.outcome.timedOut, false);
    assert.ok(!result.stdout.toString().includes('survived'));
    const memory = cgroupDir(recordOf(spec.environmentId), 'memory');
    assert.match(readCgroup(memory, 'memory.oom_control'), /oom_kill [1-9]/);
    const after = await run(client, ['echo', 'still here']);
    assert.equal(after.stdout.toString(), 'still here\n');
  } finally {
    client.close();
  }
});

test('the pids limit holds: forks beyond it fail', async () => {
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
