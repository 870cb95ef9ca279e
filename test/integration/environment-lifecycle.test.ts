import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Environment } from '@hangar/api';
import { devcontainer, repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

const run = promisify(execFile);
let system: System;

before(async () => {
  system = await startSystem();
});
after(async () => {
  await system.close();
});

async function sandboxProcesses(environmentId: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid,args']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(environmentId) && !line.includes('ps -eo'));
}

test('create, exec, stop, start and delete an environment from a real repository', async () => {
  const repo = await repository(system.dir, 'demo', {
    files: {
      '.devcontainer/devcontainer.json': devcontainer({
        postCreateCommand: 'echo made-by-post-create > created.txt',
        postStartCommand: 'echo started >> starts.txt',
        containerEnv: { GREETING: 'hello' },
        remoteEnv: { FROM_REMOTE: '${containerEnv:GREETING}-remote' },
      }),
    },
  });
  const environment = await system.createAndWait({ repository: { url: repo.dir } });
  assert.equal(environment.status.workspaceFolder, '/workspaces/demo');
  const seen = await system.exec(environment.id, [
    'sh',
    '-c',
    'cat created.txt; echo $GREETING $FROM_REMOTE; pwd',
  ]);
  assert.equal(seen.exitCode, 0);
  assert.equal(seen.out.toString(), 'made-by-post-create\nhello hello-remote\n/workspaces/demo\n');

  const stopped = await system.api<Environment>('POST', `/v1/environments/${environment.id}/stop`);
  assert.equal(stopped.status, 202);
  await system.waitFor(environment.id, 'stopped');
  assert.deepEqual(await sandboxProcesses(environment.id), []);
  await assert.rejects(system.exec(environment.id, ['true']), /409/);

  await system.api('POST', `/v1/environments/${environment.id}/start`);
  await system.waitFor(environment.id, 'running');
  const again = await system.exec(environment.id, ['sh', '-c', 'cat created.txt starts.txt']);
  assert.equal(again.out.toString(), 'made-by-post-create\nstarted\nstarted\n');

  const volume = join(system.dir, 'runner', 'environments', environment.id);
  await stat(volume);
  await system.api('DELETE', `/v1/environments/${environment.id}`);
  await system.waitFor(environment.id, 'deleted');
  assert.deepEqual(await sandboxProcesses(environment.id), []);
  await assert.rejects(stat(volume), /ENOENT/);
  await assert.rejects(stat(join(system.dir, 'runner', 'sandboxes', environment.id)), /ENOENT/);
});

test('an environment without a repository starts with an empty workspace', async () => {
  const environment = await system.createAndWait({ name: 'empty-one' });
  assert.equal(environment.status.workspaceFolder, '/workspaces/empty-one');
  const listing = await system.exec(environment.id, ['ls', '-A']);
  assert.equal(listing.out.toString(), '');
});

test('a failing lifecycle command fails the environment; its output stays on the runner', async () => {
  const repo = await repository(system.dir, 'failing', {
    files: {
      '.devcontainer.json': devcontainer({
        onCreateCommand: 'echo secret-marker-output; echo to-stderr >&2; exit 7',
      }),
    },
  });
  const created = await system.api<Environment>('POST', '/v1/environments', {
    repository: { url: repo.dir },
  });
  const failed = await system.waitFor(created.body.id, 'failed');
  assert.equal(failed.status.failure?.reason, 'LifecycleCommandFailed');
  assert.equal(failed.status.failure?.step, 'onCreateCommand');
  assert.equal(failed.status.failure?.exitCode, 7);
  assert.match(failed.status.failure?.message ?? '', /exited with code 7/);
  assert.doesNotMatch(JSON.stringify(failed), /secret-marker-output/);
  const grant = await system.grant(created.body.id, ['logs']);
  const logs = await fetch(`${grant.gatewayUrl}/v1/environments/${created.body.id}/logs`, {
    headers: { authorization: `Bearer ${grant.token}` },
  });
  const text = await logs.text();
  assert.match(text, /\[onCreateCommand\] secret-marker-output/);
  assert.match(text, /\[onCreateCommand\] to-stderr/);
  const deleted = await system.api('DELETE', `/v1/environments/${created.body.id}`);
  assert.equal(deleted.status, 202);
  await system.waitFor(created.body.id, 'deleted');
});

test('a malformed devcontainer.json fails with its path, line and column', async () => {
  const repo = await repository(system.dir, 'malformed', {
    files: {
      '.devcontainer/devcontainer.json':
        '{\n  "postCreateCommand": "x",\n  oops-hunter2-in-file\n}\n',
    },
  });
  const created = await system.api<Environment>('POST', '/v1/environments', {
    repository: { url: repo.dir },
  });
  const failed = await system.waitFor(created.body.id, 'failed');
  assert.equal(failed.status.failure?.reason, 'DevcontainerInvalid');
  assert.match(failed.status.failure?.message ?? '', /devcontainer\.json/);
  assert.match(failed.status.failure?.message ?? '', /line 3/);
  assert.doesNotMatch(JSON.stringify(failed), /hunter2/, 'file content stays on the runner');
  assert.equal(
    failed.status.steps.some((step) => step.name === 'sandbox'),
    false,
  );
});

test('a repository or a ref that does not exist fails the environment, naming it', async () => {
  const missing = await system.api<Environment>('POST', '/v1/environments', {
    repository: { url: join(system.dir, 'no-such-repo') },
  });
  const failedRepo = await system.waitFor(missing.body.id, 'failed');
  assert.equal(failedRepo.status.failure?.step, 'clone');
  const repo = await repository(system.dir, 'refs', { files: { 'a.txt': 'a' } });
  const badRef = await system.api<Environment>('POST', '/v1/environments', {
    repository: { url: repo.dir, ref: 'does/not/exist' },
  });
  const failedRef = await system.waitFor(badRef.body.id, 'failed');
  assert.match(failedRef.status.failure?.message ?? '', /does\/not\/exist/);
});
