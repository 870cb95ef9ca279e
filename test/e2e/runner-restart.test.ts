import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { devcontainer, repository } from '../support/repos.js';
import { hangar, startDaemon, type Daemon } from '../support/cli.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let control: Daemon;
let runner: Daemon | undefined;
let runnerArgs: string[];
let controlPort: number;

before(
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-runner-'));
    await chmod(dir, 0o711);
    const credentials = join(dir, 'owner.json');
    control = startDaemon(
      [
        'control',
        '--data-dir',
        join(dir, 'cp'),
        '--port',
        '0',
        '--init-owner',
        credentials,
        '--json',
      ],
      {},
    );
    const summary = await control.summary;
    controlPort = Number(new URL(String(summary.url)).port);
    env = { HANGAR_CREDENTIALS: credentials, HANGAR_HOME: join(dir, 'nowhere') };
    const made = await hangar(['runner', 'create', 'box-1', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    const { enrollmentToken } = JSON.parse(made.stdout) as { enrollmentToken: string };
    const runnerConfig = join(dir, 'runner.json');
    await writeFile(runnerConfig, JSON.stringify({ localRepositoryRoots: [dir] }));
    runnerArgs = [
      'runner',
      '--config',
      runnerConfig,
      '--control-plane',
      String(summary.url),
      '--data-dir',
      join(dir, 'runner'),
      '--gateway-port',
      '0',
    ];
    runner = startDaemon([...runnerArgs, '--enroll', enrollmentToken, '--json'], {});
    await runner.summary;
  },
  { timeout: 120_000 },
);

after(async () => {
  // A standalone runner leaves environments running when it stops; delete them first.
  for (const name of ['slow', 'steady']) await hangar(['env', 'delete', name, '--wait'], env);
  await runner?.stop('SIGTERM');
  await control.stop('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

async function environment(name: string) {
  const got = await hangar(['env', 'get', name, '--json'], env);
  return JSON.parse(got.stdout) as {
    id: string;
    status: { phase: string; steps: { name: string; state: string }[] };
  };
}

test(
  'a runner killed in the middle of a create finishes it after a restart',
  { timeout: 180_000 },
  async () => {
    const repo = await repository(dir, 'slow', {
      files: {
        '.devcontainer/devcontainer.json': devcontainer({
          onCreateCommand: 'echo on-create >> hooks.log',
          postCreateCommand: 'sleep 2; echo post-create >> hooks.log',
        }),
      },
    });
    const created = await hangar(['env', 'create', repo.dir, '--name', 'slow'], env);
    assert.equal(created.code, 0, created.stderr);
    let current = await environment('slow');
    for (let i = 0; i < 100; i += 1) {
      if (current.status.steps.some((s) => s.name === 'postCreateCommand' && s.state === 'running'))
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
      current = await environment('slow');
    }
    assert.ok(
      current.status.steps.some((s) => s.name === 'postCreateCommand'),
      'reached postCreate',
    );
    await runner?.stop('SIGKILL');

    runner = startDaemon([...runnerArgs, '--json'], {});
    await runner.summary;
    const waited = await hangar(['env', 'start', 'slow', '--wait'], env);
    assert.equal(waited.code, 0, waited.stderr);
    const log = await hangar(['env', 'exec', 'slow', '--', 'cat', 'hooks.log'], env);
    assert.equal(log.code, 0, log.stderr);
    const lines = log.stdout.trim().split('\n');
    assert.equal(lines.filter((line) => line === 'on-create').length, 1, log.stdout);
    assert.ok(lines.includes('post-create'), log.stdout);
    assert.equal((await environment('slow')).status.phase, 'running');
  },
);

test(
  'the control plane restarted under a running runner: the runner reconnects',
  { timeout: 180_000 },
  async () => {
    const made = await hangar(['env', 'create', '--name', 'steady', '--wait'], env);
    assert.equal(made.code, 0, made.stderr);
    await control.stop('SIGTERM');
    control = startDaemon(
      ['control', '--data-dir', join(dir, 'cp'), '--port', String(controlPort), '--json'],
      {},
    );
    await control.summary;
    let listed = '';
    for (let i = 0; i < 100 && !/online/.test(listed); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      listed = (await hangar(['runner', 'list'], env)).stdout;
    }
    assert.match(listed, /online/);
    const exec = await hangar(['env', 'exec', 'steady', '--', 'echo', 'still-here'], env);
    assert.equal(exec.stdout, 'still-here\n');
    const verified = await hangar(['audit', 'verify'], env);
    assert.equal(verified.code, 0, verified.stderr);
  },
);
