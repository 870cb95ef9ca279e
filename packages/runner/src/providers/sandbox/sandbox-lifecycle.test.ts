import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cgroupPids } from './cgroups.js';
import { environmentPaths } from './layout.js';
import { procStat, waitFor } from './processes.js';
import { readRecord } from './records.js';
import { envdHostPid } from './teardown.js';
import { removeWorkspaceVolume } from './volume.js';
import { run, sandboxFixture, shell, type SandboxFixture } from './test-support.js';

let fixture: SandboxFixture;

before(() => {
  fixture = sandboxFixture();
});

after(async () => {
  await fixture.cleanup();
});

const gone = (pid: number): boolean => {
  const stat = procStat(pid);
  return stat === undefined || stat.state === 'Z';
};

/** Every host process of a running sandbox: the keeper's tree and the cgroups' members. */
function sandboxPids(environmentId: string): { pids: number[]; cgroupDirs: string[] } {
  const record = readRecord(environmentPaths(fixture.dataDir, environmentId).record);
  assert.ok(record?.keeperPid, 'the sandbox has a record with its keeper');
  const pids = new Set<number>([record.keeperPid, ...cgroupPids(record.cgroupDirs)]);
  return { pids: [...pids], cgroupDirs: record.cgroupDirs };
}

test('start is idempotent: a second start finds the running sandbox', async () => {
  const spec = fixture.spec();
  const first = await fixture.provider.start(spec);
  const keeper = sandboxPids(spec.environmentId).pids[0];
  const second = await fixture.provider.start(spec);
  assert.deepEqual(second, first);
  assert.equal(sandboxPids(spec.environmentId).pids[0], keeper);
  assert.equal(await fixture.provider.state(spec.environmentId), 'running');
});

test('stop ends every process and keeps the volume; start again reuses it', async () => {
  const spec = fixture.spec();
  await fixture.provider.start(spec);
  let client = await fixture.provider.connect(spec.environmentId);
  const script =
    'echo kept > /workspaces/repo/kept.txt; echo mine > ~/home.txt; ' +
    '(trap "" TERM; sleep 1000) & setsid sh -c \'trap "" TERM; sleep 1001\' & echo started';
  assert.equal(await shell(client, script), 'started\n');
  client.close();
  const { pids, cgroupDirs } = sandboxPids(spec.environmentId);
  assert.ok(pids.length >= 6, `keeper, bwrap twice, envd and the sleepers: ${pids.join(' ')}`);

  await fixture.provider.stop(spec.environmentId);
  for (const pid of pids) assert.ok(gone(pid), `process ${pid} must be gone after stop`);
  for (const dir of cgroupDirs) assert.equal(existsSync(dir), false, `${dir} is removed`);
  assert.equal(await fixture.provider.state(spec.environmentId), 'stopped');
  assert.equal(existsSync(environmentPaths(fixture.dataDir, spec.environmentId).socket), false);
  assert.equal(readFileSync(join(spec.workspaceDir, 'kept.txt'), 'utf8'), 'kept\n');
  await fixture.provider.stop(spec.environmentId);

  await fixture.provider.start(spec);
  client = await fixture.provider.connect(spec.environmentId);
  try {
    assert.equal(await shell(client, 'cat kept.txt ~/home.txt'), 'kept\nmine\n');
    assert.equal(await shell(client, 'pgrep sleep || echo none'), 'none\n');
  } finally {
    client.close();
  }
});

test('calls on an unknown environment: stop and remove do nothing, state is stopped', async () => {
  await fixture.provider.stop('env_never_created');
  await fixture.provider.remove('env_never_created');
  assert.equal(await fixture.provider.state('env_never_created'), 'stopped');
  await assert.rejects(fixture.provider.connect('env_never_created'), {
    code: 'environment_not_running',
  });
  await assert.rejects(fixture.provider.state('../escape'), { code: 'invalid_request' });
});

test("remove leaves no process, cgroup or state dir; the volume is the caller's", async () => {
  const spec = fixture.spec();
  await fixture.provider.start(spec);
  const client = await fixture.provider.connect(spec.environmentId);
  await run(client, ['sh', '-c', 'echo data > file.txt; sleep 1000 & echo started']);
  client.close();
  const { pids, cgroupDirs } = sandboxPids(spec.environmentId);

  await fixture.provider.remove(spec.environmentId);
  for (const pid of pids) assert.ok(gone(pid), `process ${pid} must be gone after remove`);
  for (const dir of cgroupDirs) assert.equal(existsSync(dir), false, `${dir} is removed`);
  assert.equal(existsSync(environmentPaths(fixture.dataDir, spec.environmentId).root), false);
  assert.equal(await fixture.provider.state(spec.environmentId), 'stopped');
  assert.equal(existsSync(join(spec.workspaceDir, 'file.txt')), true);
  removeWorkspaceVolume(spec.workspaceDir);
  assert.equal(existsSync(spec.workspaceDir), false);
  await fixture.provider.remove(spec.environmentId);
});

test('when envd dies the sandbox ends, state says stopped, and start brings it back', async () => {
  const spec = fixture.spec();
  await fixture.provider.start(spec);
  const { pids } = sandboxPids(spec.environmentId);
  const envdPid = envdHostPid(pids[0] ?? 0);
  assert.ok(envdPid !== undefined);
  process.kill(envdPid, 'SIGKILL');
  assert.ok(await waitFor(() => pids.every(gone), { timeoutMs: 5000 }));
  assert.equal(await fixture.provider.state(spec.environmentId), 'stopped');

  await fixture.provider.start(spec);
  const client = await fixture.provider.connect(spec.environmentId);
  try {
    assert.equal(await shell(client, 'echo back'), 'back\n');
  } finally {
    client.close();
  }
});
