import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { captureLogs } from '../support/capture-logs.js';
import { startGitHttpServer } from '@hangar/runner/git/testing/index.js';
import { repository } from '../support/repos.js';
import { startSystem } from '../support/system.js';

async function everything(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  const contents = await Promise.all(
    files.map((file) => readFile(join(file.parentPath, file.name)).catch(() => Buffer.alloc(0))),
  );
  return Buffer.concat(contents);
}

test('a git credential from the runner config clones and is found nowhere afterwards', async () => {
  const password = 'runner-side-secret-3b7f19';
  const { logger, text: loggedText } = captureLogs();
  const root = await mkdtemp(join(tmpdir(), 'hangar-git-root-'));
  await chmod(root, 0o755);
  const served = await repository(root, 'private', { files: { 'README.md': 'private' } });
  const server = await startGitHttpServer({ root, auth: { username: 'ci', password } });
  const host = new URL(server.url).host;
  const system = await startSystem({
    logger,
    runnerConfig: { gitCredentials: [{ host, protocol: 'http', username: 'ci', password }] },
  });
  try {
    const url = `${server.url}/${basename(served.dir)}`;
    const environment = await system.createAndWait({ repository: { url } });
    const readme = await system.exec(environment.id, ['cat', 'README.md']);
    assert.equal(readme.out.toString(), 'private');
    const ps = await system.exec(environment.id, [
      'sh',
      '-c',
      'cat /proc/*/cmdline /proc/*/environ 2>/dev/null; cat .git/config',
    ]);
    assert.ok(!ps.out.includes(password), 'not inside the environment');
    const runnerFiles = await everything(join(system.dir, 'runner'));
    assert.ok(!runnerFiles.includes(password), 'not in the runner data directory');
    const controlPlaneFiles = await everything(join(system.dir, 'control-plane'));
    assert.ok(!controlPlaneFiles.includes(password), 'not in the control plane data');
    assert.ok(!loggedText().includes(password), 'not in any log line');
    const audit = await system.api('GET', '/v1/audit/export');
    assert.doesNotMatch(JSON.stringify(audit.body), new RegExp(password));
  } finally {
    await system.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
});
