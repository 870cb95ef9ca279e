import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listDirInside, openForRead, readChunk } from './files.js';
import { assertFdInside, closeQuietly, resolveLexical, type PathRules } from './paths.js';
import { beginWrite, writeFileInside } from './write-file.js';

let base: string;
let rules: PathRules;
let workspace: string;
let home: string;
let outside: string;

function read(path: string, maxBytes = 1 << 20): string {
  const file = openForRead(path, rules, maxBytes);
  try {
    return readChunk(file.fd, maxBytes + 1).toString('utf8');
  } finally {
    closeQuietly(file.fd);
  }
}

const refused = { code: 'path_outside_environment' };

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'hangar-envd-files-')));
  workspace = join(base, 'workspace');
  home = join(base, 'home');
  outside = join(base, 'outside');
  for (const dir of [workspace, home, outside, join(base, 'tmp')]) mkdirSync(dir);
  writeFileSync(join(outside, 'secret'), 'secret\n');
  writeFileSync(join(workspace, 'inside.txt'), 'inside\n');
  rules = { workspaceFolder: workspace, roots: [workspace, home, join(base, 'tmp')] };
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

test('relative paths are relative to the workspace folder; other roots are allowed', () => {
  assert.equal(resolveLexical('a/../inside.txt', rules), join(workspace, 'inside.txt'));
  assert.equal(read('inside.txt'), 'inside\n');
  writeFileInside(join(home, '.profile'), Buffer.from('home'), rules, undefined);
  assert.equal(read(join(home, '.profile')), 'home');
});

test('".." escapes and absolute paths elsewhere are refused', () => {
  assert.throws(() => read('../outside/secret'), refused);
  assert.throws(() => read(join(outside, 'secret')), refused);
  assert.throws(() => read('/etc/passwd'), refused);
  assert.throws(() => writeFileInside('../../x', Buffer.from('x'), rules, undefined), refused);
  assert.throws(() => listDirInside('/', rules), refused);
  assert.throws(() => read(''), { code: 'invalid_request' });
  assert.throws(() => read('a\0b'), { code: 'invalid_request' });
});

test('symlinks that point outside are refused for read, write and list', () => {
  symlinkSync(join(outside, 'secret'), join(workspace, 'to-secret'));
  symlinkSync(outside, join(workspace, 'to-outside'));
  symlinkSync(join(outside, 'not-yet'), join(workspace, 'dangling-out'));
  assert.throws(() => read('to-secret'), refused);
  assert.throws(() => read('to-outside/secret'), refused);
  assert.throws(() => listDirInside('to-outside', rules), refused);
  assert.throws(
    () => writeFileInside('to-secret', Buffer.from('owned'), rules, undefined),
    refused,
  );
  assert.throws(
    () => writeFileInside('to-outside/new', Buffer.from('x'), rules, undefined),
    refused,
  );
  assert.throws(
    () => writeFileInside('to-outside/a/b', Buffer.from('x'), rules, undefined),
    refused,
  );
  assert.throws(() => writeFileInside('dangling-out', Buffer.from('x'), rules, undefined), refused);
  assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret\n');
  assert.equal(existsSync(join(outside, 'new')), false);
  assert.equal(existsSync(join(outside, 'a')), false);
  assert.equal(existsSync(join(outside, 'not-yet')), false);
});

test('symlinks that stay inside are followed', () => {
  symlinkSync('inside.txt', join(workspace, 'alias'));
  symlinkSync(join(home, 'target-later'), join(workspace, 'dangling-in'));
  mkdirSync(join(home, 'dir'));
  symlinkSync(join(home, 'dir'), join(workspace, 'home-dir'));
  assert.equal(read('alias'), 'inside\n');
  writeFileInside('alias', Buffer.from('through the link\n'), rules, undefined);
  assert.equal(readFileSync(join(workspace, 'inside.txt'), 'utf8'), 'through the link\n');
  writeFileInside('dangling-in', Buffer.from('created'), rules, undefined);
  assert.equal(readFileSync(join(home, 'target-later'), 'utf8'), 'created');
  writeFileInside('home-dir/nested/file', Buffer.from('n'), rules, undefined);
  assert.equal(readFileSync(join(home, 'dir', 'nested', 'file'), 'utf8'), 'n');
});

test('an opened object is checked again, whatever the path said', () => {
  const fd = openSync(join(outside, 'secret'), 'r');
  try {
    assert.throws(() => assertFdInside(fd, 'swapped', rules), refused);
  } finally {
    closeSync(fd);
  }
});

test('writes create parents, replace content and apply only permission bits', () => {
  writeFileInside('a/b/c.txt', Buffer.from('first, longer'), rules, 0o4755);
  writeFileInside('a/b/c.txt', Buffer.from('second'), rules, undefined);
  assert.equal(readFileSync(join(workspace, 'a/b/c.txt'), 'utf8'), 'second');
  assert.equal(statSync(join(workspace, 'a/b/c.txt')).mode & 0o7777, 0o755);
  assert.throws(() => writeFileInside(workspace, Buffer.from('x'), rules, undefined), {
    code: 'invalid_request',
  });
  assert.throws(() => writeFileInside('a/b', Buffer.from('x'), rules, undefined), {
    code: 'invalid_request',
  });
});

test('a write lands in one step; an abandoned one changes nothing; a mode is kept', () => {
  writeFileInside('atomic.txt', Buffer.from('old'), rules, 0o640);
  const pending = beginWrite('atomic.txt', rules, undefined);
  pending.write(Buffer.from('half of the n'));
  assert.equal(readFileSync(join(workspace, 'atomic.txt'), 'utf8'), 'old');
  pending.abort();
  assert.equal(readFileSync(join(workspace, 'atomic.txt'), 'utf8'), 'old');
  writeFileInside('atomic.txt', Buffer.from('new'), rules, undefined);
  assert.equal(readFileSync(join(workspace, 'atomic.txt'), 'utf8'), 'new');
  assert.equal(statSync(join(workspace, 'atomic.txt')).mode & 0o777, 0o640);
  const leftovers = readdirSync(workspace).filter((name) => name.startsWith('.hangar-write-'));
  assert.deepEqual(leftovers, []);
});

test('reads refuse directories, special files and files over the limit', () => {
  execFileSync('mkfifo', [join(workspace, 'fifo')]);
  assert.throws(() => read('fifo'), { code: 'invalid_request' });
  assert.throws(() => read('a'), { code: 'invalid_request' });
  writeFileSync(join(workspace, 'big'), Buffer.alloc(100));
  assert.throws(() => read('big', 99), { code: 'payload_too_large' });
  assert.throws(() => read('missing'), { code: 'not_found' });
});

test('listing returns entries sorted, with types, sizes and modes', () => {
  mkdirSync(join(workspace, 'list'));
  writeFileSync(join(workspace, 'list', 'b.txt'), 'bb', { mode: 0o640 });
  mkdirSync(join(workspace, 'list', 'a-dir'));
  symlinkSync('b.txt', join(workspace, 'list', 'c-link'));
  const entries = listDirInside('list', rules).map(({ name, type, size, mode }) => ({
    name,
    type,
    size: type === 'file' ? size : 0,
    mode: type === 'file' ? mode : 0,
  }));
  assert.deepEqual(entries, [
    { name: 'a-dir', type: 'directory', size: 0, mode: 0 },
    { name: 'b.txt', type: 'file', size: 2, mode: 0o640 },
    { name: 'c-link', type: 'symlink', size: 0, mode: 0 },
  ]);
  assert.throws(() => listDirInside('list/b.txt', rules), { code: 'invalid_request' });
});
