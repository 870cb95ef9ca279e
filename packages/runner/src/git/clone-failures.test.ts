import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { HangarError } from '@hangar/api';

import { cloneRepository } from './clone.js';
import type { CloneOptions } from './clone.js';
import { partialDirOf } from './destination.js';
import { cloneFailureReason } from './errors.js';
import type { CloneFailureReason } from './errors.js';
import { createDeadline } from './git-process.js';
import { openGitSession } from './git-session.js';
import { makeRepo, makeTempDir, startGitDaemon, startGitHttpServer } from './testing/index.js';
import type { GitDaemon, GitHttpServer, MadeRepo, TempDir } from './testing/index.js';

const timeoutMs = 60_000;

async function cloneFails(options: CloneOptions, reason: CloneFailureReason): Promise<HangarError> {
  try {
    await cloneRepository(options);
  } catch (error: unknown) {
    assert.ok(error instanceof HangarError, `not a HangarError: ${String(error)}`);
    assert.equal(cloneFailureReason(error), reason, error.message);
    return error;
  }
  assert.fail(`the clone of ${options.url} should have failed with ${reason}`);
}

/** Processes whose command line contains `needle`, read from /proc. */
async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

void describe('cloneRepository, the bad cases', () => {
  let temp: TempDir;
  let repo: MadeRepo;
  let http: GitHttpServer;
  let slowHttp: GitHttpServer;
  let daemon: GitDaemon;
  let count = 0;
  const destination = (): string => join(temp.path, 'work', `clone-${(count += 1)}`);

  before(async () => {
    temp = await makeTempDir('hangar-git-fail-');
    repo = await makeRepo(join(temp.path, 'served', 'repo'), {
      branches: { 'feature/a': { 'a.txt': 'a\n' } },
      tags: { v1: '' },
    });
    http = await startGitHttpServer({ root: join(temp.path, 'served') });
    slowHttp = await startGitHttpServer({ root: join(temp.path, 'served'), delayMs: 120_000 });
    daemon = await startGitDaemon({ root: join(temp.path, 'served') });
  });

  after(async () => {
    await http.close();
    await slowHttp.close();
    await daemon.close();
    await temp.remove();
  });

  void it('names the URL and git reason when a local repository does not exist', async () => {
    const url = join(temp.path, 'served', 'missing');
    const dest = join(temp.path, 'fresh-parent', 'a', 'clone');
    const error = await cloneFails({ url, destination: dest, timeoutMs }, 'repository_unavailable');
    assert.equal(error.code, 'not_found');
    assert.match(error.message, new RegExp(`repository ${url} could not be read`));
    assert.match(error.message, /does not appear to be a git repository/);
    await assert.rejects(readdir(join(temp.path, 'fresh-parent')), { code: 'ENOENT' });
  });

  void it('fails clearly for a repository missing over HTTP and over git://', async () => {
    const overHttp = await cloneFails(
      { url: `${http.url}/missing`, destination: destination(), timeoutMs },
      'repository_unavailable',
    );
    assert.match(overHttp.message, new RegExp(`${http.url}/missing`));
    assert.match(overHttp.message, /not found/);
    const overDaemon = await cloneFails(
      { url: `${daemon.url}/missing`, destination: destination(), timeoutMs },
      'repository_unavailable',
    );
    assert.match(overDaemon.message, /git:\/\/127\.0\.0\.1:\d+\/missing/);
  });

  void it('fails clearly when nothing listens at the address', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await cloneFails(
      { url: `http://127.0.0.1:${port}/repo`, destination: destination(), timeoutMs },
      'repository_unavailable',
    );
    assert.match(error.message, /Could not connect|Connection refused|Failed to connect/i);
  });

  void it('names the ref, the repository and how to list refs for a missing ref', async () => {
    const dest = destination();
    const error = await cloneFails(
      { url: `${http.url}/repo`, ref: 'feature/nope', destination: dest, timeoutMs },
      'ref_not_found',
    );
    assert.equal(error.code, 'not_found');
    assert.match(error.message, /"feature\/nope"/);
    assert.ok(error.message.includes(`${http.url}/repo`));
    assert.ok(error.message.includes(`git ls-remote ${http.url}/repo`));
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
  });

  void it('removes the half-made clone when a commit id is not in the repository', async () => {
    const dest = destination();
    const error = await cloneFails(
      { url: repo.dir, ref: 'deadbeef', destination: dest, timeoutMs },
      'ref_not_found',
    );
    assert.match(error.message, /"deadbeef"/);
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
    await assert.rejects(readdir(partialDirOf(dest)), { code: 'ENOENT' });
    const full = 'f'.repeat(40);
    await cloneFails({ url: repo.dir, ref: full, destination: dest, timeoutMs }, 'ref_not_found');
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
  });

  void it('leaves a pre-existing empty destination empty after a failure', async () => {
    const dest = destination();
    await mkdir(dest, { recursive: true });
    await cloneFails(
      { url: repo.dir, ref: 'abcd1234', destination: dest, timeoutMs },
      'ref_not_found',
    );
    assert.deepEqual(await readdir(dest), []);
  });

  void it('refuses a destination that is not empty and leaves it untouched', async () => {
    const dest = destination();
    await mkdir(dest, { recursive: true });
    await writeFile(join(dest, 'keep.txt'), 'mine\n');
    const error = await cloneFails(
      { url: repo.dir, destination: dest, timeoutMs },
      'destination_not_empty',
    );
    assert.equal(error.code, 'conflict');
    assert.match(error.message, /is not empty/);
    assert.deepEqual(await readdir(dest), ['keep.txt']);
    assert.equal(await readFile(join(dest, 'keep.txt'), 'utf8'), 'mine\n');
  });

  void it('refuses a destination that is a file or a relative path', async () => {
    const file = join(temp.path, 'a-file');
    await writeFile(file, 'x');
    await cloneFails({ url: repo.dir, destination: file, timeoutMs }, 'destination_not_empty');
    await cloneFails({ url: repo.dir, destination: 'rel/dir', timeoutMs }, 'destination_unusable');
  });

  void it('removes a partial directory left by a runner that died mid-clone', async () => {
    const dest = destination();
    await mkdir(join(partialDirOf(dest), '.git'), { recursive: true });
    await writeFile(join(partialDirOf(dest), 'junk'), 'x');
    await cloneRepository({ url: repo.dir, destination: dest, timeoutMs });
    assert.deepEqual((await readdir(dest)).sort(), ['.git', 'README.md']);
    await assert.rejects(readdir(partialDirOf(dest)), { code: 'ENOENT' });
  });

  void it('refuses ext:: before running git', async () => {
    const marker = join(temp.path, 'ext-ran');
    const dest = destination();
    const error = await cloneFails(
      { url: `ext::sh -c touch% ${marker}`, destination: dest, timeoutMs },
      'protocol_refused',
    );
    assert.equal(error.code, 'invalid_request');
    await assert.rejects(readFile(marker), { code: 'ENOENT' });
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
  });

  void it('keeps git itself from using ext:: even when handed one directly', async () => {
    const marker = join(temp.path, 'ext-ran-directly');
    const session = await openGitSession({});
    try {
      const result = await session.run(['ls-remote', `ext::sh -c touch% ${marker}`], {
        deadline: createDeadline(timeoutMs),
      });
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, /transport 'ext' not allowed/);
    } finally {
      await session.close();
    }
    await assert.rejects(readFile(marker), { code: 'ENOENT' });
  });

  void it('refuses a ref that looks like an option', async () => {
    const error = await cloneFails(
      { url: repo.dir, ref: '--upload-pack=touch /tmp/x', destination: destination(), timeoutMs },
      'invalid_ref',
    );
    assert.equal(error.code, 'invalid_request');
  });

  void it('kills git when the timeout passes and leaves nothing behind', async () => {
    const dest = destination();
    const url = `${slowHttp.url}/repo`;
    const error = await cloneFails({ url, destination: dest, timeoutMs: 500 }, 'timeout');
    assert.match(error.message, /did not finish within 500 ms/);
    assert.deepEqual(await processesMentioning(url), []);
    await assert.rejects(readdir(dest), { code: 'ENOENT' });
    await assert.rejects(readdir(partialDirOf(dest)), { code: 'ENOENT' });
  });

  void it('stops git when the caller aborts', async () => {
    const controller = new AbortController();
    const url = `${slowHttp.url}/repo`;
    const pending = cloneFails(
      { url, destination: destination(), timeoutMs, signal: controller.signal },
      'aborted',
    );
    setTimeout(() => controller.abort(), 200);
    await pending;
    assert.deepEqual(await processesMentioning(url), []);
  });

  void it('refuses a timeout that is not positive', async () => {
    await assert.rejects(
      cloneRepository({ url: repo.dir, destination: destination(), timeoutMs: 0 }),
      { code: 'invalid_request' },
    );
  });
});
