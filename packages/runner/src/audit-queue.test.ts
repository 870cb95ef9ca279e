import assert from 'node:assert/strict';
import { appendFile, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditQueue, type AuditDraft } from './audit-queue.js';

const draft: AuditDraft = {
  actor: { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' },
  action: 'environment.exec',
  target: { kind: 'environment', id: 'env_aaaaaaaaaaaaaaaa' },
  outcome: 'success',
  requestId: 'req_aaaaaaaaaaaaaaaa',
  sourceAddress: '127.0.0.1',
  details: { exitCode: 0 },
};

test('records survive a restart, are numbered once, and go when acknowledged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-queue-'));
  try {
    const first = await AuditQueue.open(dir);
    await Promise.all([first.append(draft), first.append(draft), first.append(draft)]);
    assert.deepEqual(
      first.pending().map((r) => r.localSeq),
      [1, 2, 3],
    );
    await first.acknowledge(2);
    assert.deepEqual(
      first.pending().map((r) => r.localSeq),
      [3],
    );

    // A crash mid-write leaves a line without its newline; it never counted as written.
    await appendFile(join(dir, 'audit-queue.jsonl'), '{"localSeq":4,"ti');
    const second = await AuditQueue.open(dir);
    assert.deepEqual(
      second.pending().map((r) => r.localSeq),
      [3],
    );
    const next = await second.append(draft);
    assert.equal(next.localSeq, 4, 'numbers never repeat across restarts');
    await second.acknowledge(4);
    assert.equal(second.size, 0);
    assert.equal(await readFile(join(dir, 'audit-queue.jsonl'), 'utf8'), '');
    const third = await AuditQueue.open(dir);
    assert.equal((await third.append(draft)).localSeq, 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an append that cannot be written rejects, so the caller can refuse the action', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-queue-'));
  try {
    const queue = await AuditQueue.open(dir);
    await chmod(dir, 0o500);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      await rm(dir, { recursive: true, force: true });
    }
    await assert.rejects(queue.append(draft));
    assert.equal(queue.size, 0);
    await assert.rejects(queue.append({ ...draft, details: { nested: {} as never } }));
  } finally {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
