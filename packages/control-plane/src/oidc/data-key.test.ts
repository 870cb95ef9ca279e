import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOrCreateDataKey } from './data-key.js';

test('the data key is made once, mode 0600, and opens what it sealed after a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-data-key-'));
  try {
    const key = await loadOrCreateDataKey(dir);
    const info = await stat(join(dir, 'data.key'));
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(info.size, 32);
    const sealed = key.seal('client secret value', 'purpose A');
    assert.ok(!sealed.includes('client secret value'));
    assert.notEqual(
      key.seal('client secret value', 'purpose A'),
      sealed,
      'a fresh nonce each time',
    );
    const again = await loadOrCreateDataKey(dir);
    assert.equal(again.open(sealed, 'purpose A'), 'client secret value');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a changed byte, other associated data or another key fail to open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-data-key-'));
  const other = await mkdtemp(join(tmpdir(), 'hangar-data-key-'));
  try {
    const key = await loadOrCreateDataKey(dir);
    const sealed = key.seal('the secret', 'oidc org_1');
    const [prefix = '', body = ''] = sealed.split('.');
    const bytes = Buffer.from(body, 'base64url');
    for (const index of [0, 12, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[index] = (tampered[index] ?? 0) ^ 1;
      assert.throws(() => key.open(`${prefix}.${tampered.toString('base64url')}`, 'oidc org_1'));
    }
    assert.throws(() => key.open(sealed, 'oidc org_2'), /does not open/);
    assert.throws(() => key.open('v2.AAAA', 'oidc org_1'), /malformed/);
    const stranger = await loadOrCreateDataKey(other);
    assert.throws(() => stranger.open(sealed, 'oidc org_1'), /does not open/);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
});

test('a data key file open to others, or of the wrong size, is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-data-key-'));
  try {
    await writeFile(join(dir, 'data.key'), Buffer.alloc(16), { mode: 0o600 });
    await assert.rejects(loadOrCreateDataKey(dir), /not a 32-byte data key/);
    await writeFile(join(dir, 'data.key'), Buffer.alloc(32), { mode: 0o644 });
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, 'data.key'), 0o644);
    await assert.rejects(loadOrCreateDataKey(dir), /open to group or others/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
