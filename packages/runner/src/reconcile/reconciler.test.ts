import assert from 'node:assert/strict';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { DesiredEnvironment, EnvironmentStatus } from '@hangar/api';
import { resolveRunnerConfig } from '../config.js';
import { makeRepo, makeTempDir } from '../git/testing/index.js';
import { MemoryProvider, type RecordedExec } from '../providers/memory-provider.js';
import { StateStore } from '../state-store.js';
import { Reconciler } from './reconciler.js';

const devcontainer = JSON.stringify({
  // JSONC is accepted in the real reader; keep this one plain.
  image: 'mcr.microsoft.com/devcontainers/base:bookworm',
  onCreateCommand: 'echo on-create',
  postCreateCommand: { first: 'echo one', second: ['echo', 'two'] },
  postStartCommand: 'echo started >> /tmp/starts',
  containerEnv: { GREETING: 'hello' },
  remoteEnv: { PATH_COPY: '${containerEnv:PATH}' },
});

async function setup(respond?: (exec: RecordedExec) => { exitCode: number; output?: string }) {
  const temp = await makeTempDir('hangar-reconcile-');
  // The sandbox user clones into the data directory, so it must be able to traverse to it.
  await chmod(temp.path, 0o711);
  const repo = await makeRepo(join(temp.path, 'repo'), {
    files: { '.devcontainer/devcontainer.json': devcontainer, 'README.md': 'demo' },
    branches: { 'feature/nested/x': { 'NOTE.md': 'on a branch' } },
  });
  const dataDir = join(temp.path, 'runner');
  const config = await resolveRunnerConfig({
    controlPlaneUrl: 'http://127.0.0.1:1',
    dataDir,
    localRepositoryRoots: [temp.path],
  });
  const store = new StateStore(dataDir, undefined);
  await store.init();
  const provider = new MemoryProvider(respond);
  const reports: EnvironmentStatus[] = [];
  const make = () =>
    new Reconciler({
      provider,
      store,
      config,
      logger: pino({ level: 'silent' }),
      gatewayUrl: () => 'http://127.0.0.1:7',
      report: (_id, status) => reports.push(status),
    });
  return { temp, repo, store, provider, reports, make, config };
}

function desired(
  overrides: Partial<DesiredEnvironment['spec']> & {
    generation?: number;
    ports?: DesiredEnvironment['ports'];
  } = {},
): DesiredEnvironment {
  const { generation = 1, ports = [], ...spec } = overrides;
  return {
    id: 'env_aaaaaaaaaaaaaaaa',
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    name: 'demo',
    generation,
    spec: { class: 'small', desiredPhase: 'running' as const, ...spec },
    ports,
  };
}

test('create clones, starts the sandbox and runs the lifecycle once, postStart on every start', async () => {
  const s = await setup();
  try {
    const reconciler = s.make();
    const repository = { url: s.repo.dir, ref: 'feature/nested/x' };
    reconciler.update(desired({ repository }));
    await reconciler.idle();
    const last = s.reports.at(-1);
    assert.equal(last?.phase, 'running', JSON.stringify(last));
    assert.equal(last?.workspaceFolder, '/workspaces/repo');
    const phases = [...new Set(s.reports.map((r) => r.phase))];
    assert.deepEqual(phases, ['creating', 'running']);
    const stepNames = last?.steps.map((step) => `${step.name}:${step.state}`);
    assert.deepEqual(stepNames, [
      'clone:succeeded',
      'devcontainer:succeeded',
      'sandbox:succeeded',
      'onCreateCommand:succeeded',
      'postCreateCommand:succeeded',
      'postStartCommand:succeeded',
    ]);
    const image = last?.conditions.find((c) => c.type === 'ImageResolved');
    assert.equal(image?.reason, 'HostImageSubstituted');
    assert.match(image?.message ?? '', /asks for an image/);
    assert.doesNotMatch(image?.message ?? '', /mcr/);
    const note = await readFile(
      join(s.store.workspaceDir('env_aaaaaaaaaaaaaaaa'), 'NOTE.md'),
      'utf8',
    );
    assert.equal(note, 'on a branch');
    const spec = s.provider.running.get('env_aaaaaaaaaaaaaaaa');
    assert.equal(spec?.containerEnv.GREETING, 'hello');

    reconciler.update(desired({ repository, desiredPhase: 'stopped', generation: 2 }));
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'stopped');
    assert.equal(await s.provider.state('env_aaaaaaaaaaaaaaaa'), 'stopped');

    reconciler.update(desired({ repository, desiredPhase: 'running', generation: 3 }));
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'running');
    const commands = s.provider.execs.map((exec) => exec.command.join(' '));
    assert.equal(commands.filter((c) => c.includes('on-create')).length, 1);
    assert.equal(commands.filter((c) => c.includes('echo one')).length, 1);
    assert.equal(
      commands.filter((c) => c === 'echo two').length,
      1,
      'array form runs without a shell',
    );
    assert.equal(commands.filter((c) => c.includes('started')).length, 2);
    assert.ok(s.reports.some((r) => r.phase === 'starting'));
    assert.equal(s.provider.starts.length, 2);
  } finally {
    await s.temp.remove();
  }
});

test('a failing lifecycle command fails the environment with its name and exit code', async () => {
  const s = await setup((exec) =>
    exec.command.join(' ').includes('echo two')
      ? { exitCode: 3, output: 'line one\nline two\nboom\n' }
      : { exitCode: 0 },
  );
  try {
    const reconciler = s.make();
    reconciler.update(desired({ repository: { url: s.repo.dir } }));
    await reconciler.idle();
    const last = s.reports.at(-1);
    assert.equal(last?.phase, 'failed');
    assert.equal(last?.failure?.reason, 'LifecycleCommandFailed');
    assert.equal(last?.failure?.step, 'postCreateCommand#2');
    assert.equal(last?.failure?.exitCode, 3);
    assert.doesNotMatch(JSON.stringify(last), /boom/, 'command output stays on the runner');
    const log = await readFile(s.store.lifecycleLogPath('env_aaaaaaaaaaaaaaaa'), 'utf8');
    assert.match(log, /\[postCreateCommand:second\] boom/);
    assert.equal(await s.provider.state('env_aaaaaaaaaaaaaaaa'), 'stopped');

    reconciler.update(
      desired({ repository: { url: s.repo.dir }, desiredPhase: 'deleted', generation: 2 }),
    );
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'deleted');
    await assert.rejects(stat(s.store.dir('env_aaaaaaaaaaaaaaaa')), /ENOENT/);
    assert.deepEqual(s.provider.removed, ['env_aaaaaaaaaaaaaaaa']);
  } finally {
    await s.temp.remove();
  }
});

test('a malformed devcontainer.json fails before any sandbox starts', async () => {
  const s = await setup();
  try {
    const broken = await makeRepo(join(s.temp.path, 'broken'), {
      files: { '.devcontainer.json': '{\n  "image": "x",\n  "postCreateCommand": [1,\n}' },
    });
    const reconciler = s.make();
    reconciler.update(desired({ repository: { url: broken.dir } }));
    await reconciler.idle();
    const last = s.reports.at(-1);
    assert.equal(last?.phase, 'failed');
    assert.equal(last?.failure?.reason, 'DevcontainerInvalid');
    assert.match(last?.failure?.message ?? '', /devcontainer\.json.*line \d+/i);
    assert.equal(s.provider.starts.length, 0);
  } finally {
    await s.temp.remove();
  }
});

test('a repository or ref that does not exist fails the clone with a clear reason', async () => {
  const s = await setup();
  try {
    const reconciler = s.make();
    reconciler.update(desired({ repository: { url: join(s.temp.path, 'missing') } }));
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'failed');
    assert.equal(s.reports.at(-1)?.failure?.step, 'clone');

    const other = {
      ...desired({ repository: { url: s.repo.dir, ref: 'no-such-branch' } }),
      id: 'env_bbbbbbbbbbbbbbbb',
    };
    reconciler.update(other);
    await reconciler.idle();
    const last = s.reports.at(-1);
    assert.equal(last?.phase, 'failed');
    assert.match(last?.failure?.message ?? '', /no-such-branch/);
  } finally {
    await s.temp.remove();
  }
});

test('a runner restarted mid-create finishes what was left and repeats nothing done', async () => {
  const s = await setup();
  try {
    const first = s.make();
    first.update(desired({ repository: { url: s.repo.dir } }));
    await first.idle();
    const state = await s.store.load('env_aaaaaaaaaaaaaaaa');
    assert.ok(state);
    // As if the runner died after the clone and onCreateCommand, before the rest; its sandbox
    // lives on.
    await writeFile(join(s.store.workspaceDir('env_aaaaaaaaaaaaaaaa'), 'kept.txt'), 'kept');
    await s.store.save({
      ...state,
      status: { ...state.status, phase: 'creating' },
      created: false,
      hooksDone: ['onCreateCommand'],
      postStartPending: true,
    });
    s.provider.execs.length = 0;
    const second = s.make();
    await second.restore();
    second.update(desired({ repository: { url: s.repo.dir } }));
    await second.idle();
    assert.equal(s.reports.at(-1)?.phase, 'running');
    const commands = s.provider.execs.map((exec) => exec.command.join(' '));
    assert.equal(commands.filter((c) => c.includes('on-create')).length, 0);
    assert.equal(commands.filter((c) => c.includes('echo one')).length, 1);
    assert.equal(commands.filter((c) => c.includes('started')).length, 1);
    assert.equal(s.provider.starts.length, 1, 'the living sandbox was reused');
    const kept = await readFile(
      join(s.store.workspaceDir('env_aaaaaaaaaaaaaaaa'), 'kept.txt'),
      'utf8',
    );
    assert.equal(kept, 'kept', 'the clone was not repeated');
  } finally {
    await s.temp.remove();
  }
});

test('an environment the control plane no longer knows is deleted on reconnect', async () => {
  const s = await setup();
  try {
    const reconciler = s.make();
    reconciler.update(desired());
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'running');
    reconciler.replaceAll([]);
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'deleted');
  } finally {
    await s.temp.remove();
  }
});

test('a clone by path is refused outside the allowed folders and inside the data directory', async () => {
  const s = await setup();
  const elsewhere = await makeTempDir('hangar-elsewhere-');
  try {
    const outside = await makeRepo(join(elsewhere.path, 'outside'), { files: { 'a.txt': 'a' } });
    const reconciler = s.make();
    reconciler.update(desired({ repository: { url: `file://${outside.dir}` } }));
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.failure?.reason, 'LocalRepositoryRefused');
    assert.match(s.reports.at(-1)?.failure?.message ?? '', /localRepositoryRoots/);

    const first = { ...desired({ repository: { url: s.repo.dir } }), id: 'env_cccccccccccccccc' };
    reconciler.update(first);
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'running');
    const stolen = {
      ...desired({ repository: { url: s.store.workspaceDir('env_cccccccccccccccc') } }),
      id: 'env_dddddddddddddddd',
    };
    reconciler.update(stolen);
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.failure?.reason, 'LocalRepositoryRefused');
    assert.match(s.reports.at(-1)?.failure?.message ?? '', /data directory/);
  } finally {
    await elsewhere.remove();
    await s.temp.remove();
  }
});

test('a change of shared ports alone restarts nothing, and is kept across a runner restart', async () => {
  const s = await setup();
  try {
    const reconciler = s.make();
    const repository = { url: s.repo.dir };
    reconciler.update(desired({ repository }));
    await reconciler.idle();
    assert.equal(s.reports.at(-1)?.phase, 'running');
    const reports = s.reports.length;
    const execs = s.provider.execs.length;

    const ports = [{ port: 3000, level: 'org' as const }];
    reconciler.update(desired({ repository, ports }));
    await reconciler.idle();
    assert.equal(s.reports.length, reports, 'no status change, so nothing was redone');
    assert.equal(s.provider.execs.length, execs, 'no lifecycle command ran again');
    assert.deepEqual(s.provider.starts, ['env_aaaaaaaaaaaaaaaa'], 'the sandbox started once');
    assert.equal(await s.provider.state('env_aaaaaaaaaaaaaaaa'), 'running');
    assert.deepEqual(reconciler.desiredOf('env_aaaaaaaaaaaaaaaa')?.ports, ports);
    const stored = await s.store.load('env_aaaaaaaaaaaaaaaa');
    assert.deepEqual(stored?.desired.ports, ports);

    const restarted = s.make();
    await restarted.restore();
    assert.deepEqual(restarted.desiredOf('env_aaaaaaaaaaaaaaaa')?.ports, ports);
  } finally {
    await s.temp.remove();
  }
});
