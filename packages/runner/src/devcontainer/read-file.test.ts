import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HangarError } from '@hangar/api';
import { locateDevcontainer, type LocatedDevcontainer } from './locate.js';
import { readDevcontainerFile } from './read-file.js';

let tempRoot = '';
let counter = 0;

before(async () => {
  tempRoot = await mkdtemp(path.join(tmpdir(), 'hangar-devcontainer-read-'));
});

after(async () => {
  if (tempRoot !== '') await rm(tempRoot, { recursive: true, force: true });
});

async function makeCase(): Promise<{ ws: string; out: string }> {
  counter += 1;
  const ws = path.join(tempRoot, `case-${counter}`, 'repo');
  const out = path.join(tempRoot, `case-${counter}`, 'outside');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'devcontainer.json'), '{ "image": "outside" }');
  return { ws, out };
}

async function locate(ws: string, configPath?: string): Promise<LocatedDevcontainer> {
  const located = await locateDevcontainer({ workspaceDir: ws, configPath });
  assert.ok(located !== null);
  return located;
}

async function assertRefused(promise: Promise<unknown>, what: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'devcontainer_invalid');
    assert.match(error.message, what);
    return true;
  });
}

void test('a located file is read as UTF-8 text', async () => {
  const { ws } = await makeCase();
  await writeFile(path.join(ws, '.devcontainer/devcontainer.json'), '{ "name": "café ☕" }');

  const text = await readDevcontainerFile(await locate(ws));

  assert.equal(text, '{ "name": "café ☕" }');
});

void test('a FIFO is refused without blocking', async () => {
  const { ws } = await makeCase();
  execFileSync('mkfifo', [path.join(ws, '.devcontainer/devcontainer.json')]);

  await assertRefused(readDevcontainerFile(await locate(ws)), /not a regular file/);
});

void test('a directory is refused', async () => {
  const { ws } = await makeCase();
  await mkdir(path.join(ws, 'dir.json'));

  await assertRefused(readDevcontainerFile(await locate(ws, 'dir.json')), /not a regular file/);
});

void test('a file larger than the limit is refused', async () => {
  const { ws } = await makeCase();
  await writeFile(path.join(ws, '.devcontainer.json'), `{ "name": "${'x'.repeat(100)}" }`);

  const located = await locate(ws);

  await assertRefused(readDevcontainerFile(located, { maxBytes: 64 }), /more than the 64 allowed/);
});

void test('a file swapped for a symlink after it was located is not followed', async () => {
  const { ws, out } = await makeCase();
  const file = path.join(ws, '.devcontainer/devcontainer.json');
  await writeFile(file, '{}');
  const located = await locate(ws);
  await unlink(file);
  await symlink(path.join(out, 'devcontainer.json'), file);

  await assertRefused(readDevcontainerFile(located), /could not be opened \(ELOOP\)/);
});

void test('a folder swapped for a symlink to outside after it was located is caught', async () => {
  const { ws, out } = await makeCase();
  await writeFile(path.join(ws, '.devcontainer/devcontainer.json'), '{}');
  const located = await locate(ws);
  await rename(path.join(ws, '.devcontainer'), path.join(ws, 'moved'));
  await symlink(out, path.join(ws, '.devcontainer'));

  await assertRefused(readDevcontainerFile(located), /moved outside the repository/);
});
