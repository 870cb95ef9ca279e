import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostKeyFileName, loadHostKey } from './host-key.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-hostkey-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the host key is generated once, mode 0600, and the same on every later start', () =>
  withDir(async (dir) => {
    const first = await loadHostKey(dir);
    assert.match(first.publicLine, /^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
    assert.match(first.privateKey, /BEGIN OPENSSH PRIVATE KEY/);
    assert.equal((await stat(join(dir, hostKeyFileName))).mode & 0o777, 0o600);
    const again = await loadHostKey(dir);
    assert.equal(again.publicLine, first.publicLine);
    assert.deepEqual(await readdir(dir), [hostKeyFileName], 'no temporary file is left');
  }));

test('a host key file others may read is refused, as sshd refuses it', () =>
  withDir(async (dir) => {
    await loadHostKey(dir);
    await chmod(join(dir, hostKeyFileName), 0o644);
    await assert.rejects(loadHostKey(dir), /mode 644; others may read the SSH host key/);
  }));

test('a host key file that is not an ed25519 key says how to recover', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, hostKeyFileName), 'not a key\n', { mode: 0o600 });
    await assert.rejects(loadHostKey(dir), /not an ed25519 private key.*remove it/);
  }));
