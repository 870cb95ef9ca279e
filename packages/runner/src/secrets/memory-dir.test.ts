import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryDir } from './memory-dir.js';

test('a stopping runner leaves no empty folder on the memory file system, and keeps files', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-memory-dir-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const memory = await MemoryDir.open(dataDir);
  if (!memory) {
    t.skip('no memory file system here');
    return;
  }
  const [file] = await memory.writeEnvironmentFiles(
    'env_aaaaaaaaaaaaaaaa',
    [{ dest: '/run/secrets/a', data: Buffer.from('value') }],
    undefined,
  );
  assert.ok(file);
  await memory.folder('git');

  await memory.removeEmptyFolders();
  assert.equal(await readFile(file.source, 'utf8'), 'value', 'a mounted file stays');
  await assert.rejects(stat(join(memory.path, 'git')), { code: 'ENOENT' });

  await memory.removeEnvironment('env_aaaaaaaaaaaaaaaa');
  await memory.removeEmptyFolders();
  await assert.rejects(stat(memory.path), { code: 'ENOENT' });
});
