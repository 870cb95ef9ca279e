import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { HangarError } from '@hangar/api';

import { cloneRepository } from './clone.js';
import { cloneFailureReason } from './errors.js';
import { makeRepo, makeTempDir, startGitHttpServer } from './testing/index.js';
import type { GitHttpServer, MadeRepo, TempDir } from './testing/index.js';

const timeoutMs = 60_000;
const sandboxUser = { uid: 1000, gid: 1000 };
const isRoot = process.getuid?.() === 0;

/** Owners (uid:gid) of `dir` and everything below it that are not `expected`. */
async function foreignOwners(dir: string, expected: string): Promise<string[]> {
  const paths = [dir, ...(await readdir(dir, { recursive: true })).map((p) => join(dir, p))];
  const wrong: string[] = [];
  for (const path of paths) {
    const stats = await lstat(path);
    const owner = `${stats.uid}:${stats.gid}`;
    if (owner !== expected) wrong.push(`${path} ${owner}`);
  }
  return wrong;
}

void describe('cloneRepository as an unprivileged user', { skip: !isRoot && 'needs root' }, () => {
  let temp: TempDir;
  let repo: MadeRepo;
  let server: GitHttpServer;
  let count = 0;
  const destination = (): string => join(temp.path, 'work', `clone-${(count += 1)}`);

  before(async () => {
    temp = await makeTempDir('hangar-git-runas-');
    await chmod(temp.path, 0o755);
    repo = await makeRepo(join(temp.path, 'served', 'repo'), {
      branches: { 'feature/x': { 'x.txt': 'x\n' } },
    });
    server = await startGitHttpServer({
      root: join(temp.path, 'served'),
      auth: { username: 'robot', password: 'runas-secret' },
    });
  });

  after(async () => {
    await server.close();
    await temp.remove();
  });

  void it('clones over HTTP as uid 1000, so every file is owned by that user', async () => {
    const dest = destination();
    const result = await cloneRepository({
      url: `${server.url}/repo`,
      ref: 'feature/x',
      destination: dest,
      credential: { username: 'robot', password: 'runas-secret' },
      runAs: sandboxUser,
      timeoutMs,
    });
    assert.equal(result.commit, repo.branches['feature/x']);
    assert.deepEqual(await foreignOwners(dest, '1000:1000'), []);
  });

  void it('clones a local repository owned by root as uid 1000', async () => {
    const dest = destination();
    const result = await cloneRepository({
      url: repo.dir,
      destination: dest,
      runAs: sandboxUser,
      timeoutMs,
    });
    assert.equal(result.commit, repo.branches['main']);
    assert.deepEqual(await foreignOwners(dest, '1000:1000'), []);
  });

  void it('takes over an existing empty destination for uid 1000', async () => {
    const dest = destination();
    await mkdir(dest, { recursive: true });
    await cloneRepository({ url: repo.dir, destination: dest, runAs: sandboxUser, timeoutMs });
    assert.deepEqual(await foreignOwners(dest, '1000:1000'), []);
  });

  void it('says which directory uid 1000 cannot enter', async () => {
    const closed = join(temp.path, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    const dest = join(closed, 'inner', 'clone');
    await assert.rejects(
      cloneRepository({ url: repo.dir, destination: dest, runAs: sandboxUser, timeoutMs }),
      (error: unknown) => {
        assert.ok(error instanceof HangarError);
        assert.equal(cloneFailureReason(error), 'destination_unusable');
        assert.ok(error.message.includes(`cannot enter ${closed}`), error.message);
        return true;
      },
    );
    assert.deepEqual(await readdir(closed), []);
  });
});

void describe(
  'cloneRepository runAs without root',
  { skip: isRoot && 'runs only as non-root' },
  () => {
    void it('refuses to switch user', async () => {
      const temp = await makeTempDir('hangar-git-runas-');
      try {
        await assert.rejects(
          cloneRepository({
            url: join(temp.path, 'none'),
            destination: join(temp.path, 'clone'),
            runAs: { uid: (process.getuid?.() ?? 0) + 1, gid: 1 },
            timeoutMs,
          }),
          { code: 'invalid_request' },
        );
      } finally {
        await temp.remove();
      }
    });
  },
);
