import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { cloneRepository } from './clone.js';
import { partialDirOf } from './destination.js';
import { git, makeRepo, makeTempDir, startGitDaemon, startGitHttpServer } from './testing/index.js';
import type { GitDaemon, GitHttpServer, MadeRepo, TempDir } from './testing/index.js';

const timeoutMs = 60_000;

void describe('cloneRepository, the good cases', () => {
  let temp: TempDir;
  let repo: MadeRepo;
  let trunkRepo: MadeRepo;
  let http: GitHttpServer;
  let daemon: GitDaemon;
  let count = 0;
  const destination = (): string => join(temp.path, 'work', `clone-${(count += 1)}`);

  before(async () => {
    temp = await makeTempDir('hangar-git-clone-');
    repo = await makeRepo(join(temp.path, 'served', 'repo'), {
      files: { 'README.md': 'main\n', 'src/app.txt': 'app\n' },
      branches: { 'feature/x/y': { 'feature.txt': 'deep branch\n' }, dev: { 'dev.txt': 'dev\n' } },
      tags: { 'v1.0': 'dev', 'v2.0': { target: 'feature/x/y', message: 'annotated' } },
    });
    trunkRepo = await makeRepo(join(temp.path, 'served', 'trunk'), { defaultBranch: 'trunk' });
    await makeRepo(join(temp.path, 'served', 'empty'), { empty: true });
    http = await startGitHttpServer({ root: join(temp.path, 'served') });
    daemon = await startGitDaemon({ root: join(temp.path, 'served') });
  });

  after(async () => {
    await http.close();
    await daemon.close();
    await temp.remove();
  });

  void it('clones a local path at its default branch and leaves only the clone', async () => {
    const dest = destination();
    const result = await cloneRepository({ url: repo.dir, destination: dest, timeoutMs });
    assert.deepEqual(result, {
      commit: repo.branches['main'],
      ref: 'refs/heads/main',
      refKind: 'branch',
      defaultBranch: 'main',
      url: repo.dir,
    });
    assert.deepEqual((await readdir(dest)).sort(), ['.git', 'README.md', 'src']);
    assert.equal(await readFile(join(dest, 'src/app.txt'), 'utf8'), 'app\n');
    await assert.rejects(readdir(partialDirOf(dest)), { code: 'ENOENT' });
    assert.equal(await git(dest, ['status', '--porcelain']), '');
  });

  void it('copies objects instead of hard-linking them for a local path', async () => {
    const dest = destination();
    await cloneRepository({ url: repo.dir, destination: dest, timeoutMs });
    const entries = await readdir(join(dest, '.git/objects'), { recursive: true });
    for (const entry of entries) {
      const stats = await stat(join(dest, '.git/objects', entry));
      if (stats.isFile()) assert.equal(stats.nlink, 1, `${entry} is hard-linked`);
    }
    const alternates = join(dest, '.git/objects/info/alternates');
    await assert.rejects(readFile(alternates), { code: 'ENOENT' });
  });

  void it('clones file:// at a branch whose name has slashes', async () => {
    const dest = destination();
    const result = await cloneRepository({
      url: `file://${repo.dir}`,
      ref: 'feature/x/y',
      destination: dest,
      timeoutMs,
    });
    assert.equal(result.commit, repo.branches['feature/x/y']);
    assert.equal(result.ref, 'refs/heads/feature/x/y');
    assert.equal(await git(dest, ['symbolic-ref', 'HEAD']), 'refs/heads/feature/x/y');
    assert.equal(await readFile(join(dest, 'feature.txt'), 'utf8'), 'deep branch\n');
  });

  void it('clones over smart HTTP at a lightweight tag and at an annotated tag', async () => {
    const light = await cloneRepository({
      url: `${http.url}/repo`,
      ref: 'v1.0',
      destination: destination(),
      timeoutMs,
    });
    assert.deepEqual(
      [light.commit, light.ref, light.refKind],
      [repo.tags['v1.0'], 'refs/tags/v1.0', 'tag'],
    );
    const dest = destination();
    const annotated = await cloneRepository({
      url: `${http.url}/repo`,
      ref: 'refs/tags/v2.0',
      destination: dest,
      timeoutMs,
    });
    assert.equal(annotated.commit, repo.tags['v2.0']);
    assert.equal(await git(dest, ['rev-parse', 'HEAD']), repo.tags['v2.0']);
    assert.equal(http.requests.length > 0, true);
  });

  void it('clones git:// at a full commit id, detached', async () => {
    const sha = repo.branches['dev'] ?? '';
    const dest = destination();
    const result = await cloneRepository({
      url: `${daemon.url}/repo`,
      ref: sha,
      destination: dest,
      timeoutMs,
    });
    assert.deepEqual([result.commit, result.ref, result.refKind], [sha, sha, 'commit']);
    assert.equal(await git(dest, ['rev-parse', 'HEAD']), sha);
    assert.equal(await readFile(join(dest, 'dev.txt'), 'utf8'), 'dev\n');
  });

  void it('clones at an abbreviated commit id, upper case accepted', async () => {
    const sha = repo.branches['feature/x/y'] ?? '';
    const dest = destination();
    const result = await cloneRepository({
      url: repo.dir,
      ref: sha.slice(0, 8).toUpperCase(),
      destination: dest,
      timeoutMs,
    });
    assert.equal(result.commit, sha);
    assert.equal(result.refKind, 'commit');
    assert.equal(await git(dest, ['rev-parse', 'HEAD']), sha);
  });

  void it('follows a default branch that is not main', async () => {
    const result = await cloneRepository({
      url: `${http.url}/trunk`,
      destination: destination(),
      timeoutMs,
    });
    assert.equal(result.defaultBranch, 'trunk');
    assert.equal(result.ref, 'refs/heads/trunk');
    assert.equal(result.commit, trunkRepo.branches['trunk']);
  });

  void it('clones into an existing empty directory', async () => {
    const dest = destination();
    await mkdir(dest, { recursive: true });
    const result = await cloneRepository({
      url: repo.dir,
      ref: 'dev',
      destination: dest,
      timeoutMs,
    });
    assert.equal(result.commit, repo.branches['dev']);
    assert.equal(await readFile(join(dest, 'dev.txt'), 'utf8'), 'dev\n');
  });

  void it('clones an empty repository without a ref', async () => {
    const dest = destination();
    const result = await cloneRepository({
      url: join(temp.path, 'served', 'empty'),
      destination: dest,
      timeoutMs,
    });
    assert.equal(result.commit, null);
    assert.equal(result.ref, 'refs/heads/main');
    assert.deepEqual(await readdir(dest), ['.git']);
  });

  void it('installs no hook from a template directory', async () => {
    const dest = destination();
    await cloneRepository({ url: repo.dir, destination: dest, timeoutMs });
    await assert.rejects(readdir(join(dest, '.git/hooks')), { code: 'ENOENT' });
  });
});
