import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HangarError } from '@hangar/api';
import { isInside, locateDevcontainer } from './locate.js';

let tempRoot = '';
let counter = 0;

before(async () => {
  tempRoot = await mkdtemp(path.join(tmpdir(), 'hangar-devcontainer-locate-'));
});

after(async () => {
  if (tempRoot !== '') await rm(tempRoot, { recursive: true, force: true });
});

/** A fresh workspace folder holding the given files, beside an `outside` folder of its own. */
async function makeWorkspace(files: Record<string, string>): Promise<{ ws: string; out: string }> {
  counter += 1;
  const base = path.join(tempRoot, `case-${counter}`);
  const ws = path.join(base, 'repo');
  const out = path.join(base, 'outside');
  await mkdir(ws, { recursive: true });
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'devcontainer.json'), '{ "image": "secret" }');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ws, name)), { recursive: true });
    await writeFile(path.join(ws, name), content);
  }
  return { ws, out };
}

async function assertRefused(
  options: { workspaceDir: string; configPath?: string },
  what: RegExp,
): Promise<void> {
  await assert.rejects(locateDevcontainer(options), (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'devcontainer_invalid');
    assert.match(error.message, what);
    return true;
  });
}

void test('a folder without a config gives null', async () => {
  const { ws } = await makeWorkspace({ 'README.md': 'hi' });

  assert.equal(await locateDevcontainer({ workspaceDir: ws }), null);
});

void test('.devcontainer/devcontainer.json comes before .devcontainer.json', async () => {
  const { ws } = await makeWorkspace({
    '.devcontainer/devcontainer.json': '{}',
    '.devcontainer.json': '{}',
  });

  const located = await locateDevcontainer({ workspaceDir: ws });

  assert.equal(located?.path, path.join(ws, '.devcontainer', 'devcontainer.json'));
  assert.equal(located?.workspaceRealDir, await realpath(ws));
});

void test('.devcontainer.json at the root is found when it is the only one', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  const located = await locateDevcontainer({ workspaceDir: ws });

  assert.equal(located?.path, path.join(ws, '.devcontainer.json'));
});

void test('a named relative path is used instead of the defaults', async () => {
  const { ws } = await makeWorkspace({
    '.devcontainer/devcontainer.json': '{}',
    '.devcontainer/python/devcontainer.json': '{}',
  });

  const located = await locateDevcontainer({
    workspaceDir: ws,
    configPath: '.devcontainer/python/devcontainer.json',
  });

  assert.equal(located?.path, path.join(ws, '.devcontainer', 'python', 'devcontainer.json'));
  assert.equal(
    located?.realPath,
    path.join(await realpath(ws), '.devcontainer/python/devcontainer.json'),
  );
});

void test('a named path that does not exist is an error, not null', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  await assertRefused(
    { workspaceDir: ws, configPath: 'other/devcontainer.json' },
    /does not exist/,
  );
});

void test('an absolute path is refused, even one inside the folder', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  await assertRefused(
    { workspaceDir: ws, configPath: path.join(ws, '.devcontainer.json') },
    /absolute/,
  );
  await assertRefused({ workspaceDir: ws, configPath: '/etc/passwd' }, /absolute/);
});

void test('a path that leaves the folder with .. is refused', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  await assertRefused({ workspaceDir: ws, configPath: '../outside/devcontainer.json' }, /leaves/);
  await assertRefused(
    { workspaceDir: ws, configPath: 'a/../../outside/devcontainer.json' },
    /leaves/,
  );
  await assertRefused({ workspaceDir: ws, configPath: '..' }, /leaves/);
});

void test('a .. that stays inside the folder is accepted', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  const located = await locateDevcontainer({
    workspaceDir: ws,
    configPath: 'a/../.devcontainer.json',
  });

  assert.equal(located?.path, path.join(ws, '.devcontainer.json'));
});

void test('an empty path, the root itself and a NUL byte are refused', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });

  await assertRefused({ workspaceDir: ws, configPath: '' }, /empty/);
  await assertRefused({ workspaceDir: ws, configPath: '.' }, /repository root/);
  await assertRefused({ workspaceDir: ws, configPath: 'a\0b' }, /NUL/);
});

void test('a config that is a symlink to a file outside is refused', async () => {
  const { ws, out } = await makeWorkspace({});
  await mkdir(path.join(ws, '.devcontainer'));
  await symlink(
    path.join(out, 'devcontainer.json'),
    path.join(ws, '.devcontainer/devcontainer.json'),
  );
  await symlink('../outside/devcontainer.json', path.join(ws, 'relative-link.json'));

  await assertRefused({ workspaceDir: ws }, /outside the repository/);
  await assertRefused(
    { workspaceDir: ws, configPath: 'relative-link.json' },
    /outside the repository/,
  );
});

void test('a .devcontainer folder that is a symlink to a folder outside is refused', async () => {
  const { ws, out } = await makeWorkspace({});
  await symlink(out, path.join(ws, '.devcontainer'));

  await assertRefused({ workspaceDir: ws }, /outside the repository/);
});

void test('a symlink into a sibling folder sharing the name prefix is refused', async () => {
  const { ws } = await makeWorkspace({});
  const sibling = `${ws}-evil`;
  await mkdir(sibling);
  await writeFile(path.join(sibling, 'devcontainer.json'), '{}');
  await symlink(path.join(sibling, 'devcontainer.json'), path.join(ws, '.devcontainer.json'));

  await assertRefused({ workspaceDir: ws }, /outside the repository/);
});

void test('a symlink that stays inside the folder is followed', async () => {
  const { ws } = await makeWorkspace({ 'configs/dev.json': '{}' });
  await mkdir(path.join(ws, '.devcontainer'));
  await symlink('../configs/dev.json', path.join(ws, '.devcontainer/devcontainer.json'));

  const located = await locateDevcontainer({ workspaceDir: ws });

  assert.equal(located?.path, path.join(ws, '.devcontainer/devcontainer.json'));
  assert.equal(located?.realPath, path.join(await realpath(ws), 'configs/dev.json'));
});

void test('a dangling or looping symlink is refused', async () => {
  const { ws } = await makeWorkspace({});
  await symlink('missing.json', path.join(ws, '.devcontainer.json'));
  await symlink('loop-b', path.join(ws, 'loop-a'));
  await symlink('loop-a', path.join(ws, 'loop-b'));

  await assertRefused({ workspaceDir: ws }, /does not exist or loops/);
  await assertRefused({ workspaceDir: ws, configPath: 'loop-a' }, /does not exist or loops/);
});

void test('a workspace folder reached through a symlink still works', async () => {
  const { ws } = await makeWorkspace({ '.devcontainer.json': '{}' });
  const alias = `${ws}-alias`;
  await symlink(ws, alias);

  const located = await locateDevcontainer({ workspaceDir: alias });

  assert.equal(located?.path, path.join(alias, '.devcontainer.json'));
  assert.equal(located?.realPath, path.join(await realpath(ws), '.devcontainer.json'));
});

void test('isInside tells a child from a sibling with the same prefix', () => {
  assert.equal(isInside('/a/repo', '/a/repo'), true);
  assert.equal(isInside('/a/repo', '/a/repo/x/y'), true);
  assert.equal(isInside('/a/repo', '/a/repo/..x'), true);
  assert.equal(isInside('/a/repo', '/a/repo-evil/x'), false);
  assert.equal(isInside('/a/repo', '/a'), false);
  assert.equal(isInside('/a/repo', '/etc/passwd'), false);
});
