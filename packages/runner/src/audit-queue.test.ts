import assert from 'node:assert/strict';
import { appendFile, chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditQueue, type AuditDraft } from './audit-queue.js';

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => [key, ...stringsOf(item)]);
}

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

test('text from a request is made storable before it is queued, and again on load', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-queue-'));
  try {
    const queue = await AuditQueue.open(dir);
    const denied = await queue.append({
      ...draft,
      actor: { kind: 'system', id: 'anonymous' },
      action: 'access.denied',
      target: { kind: 'environment', id: 'x\u0000y' },
      outcome: 'denied',
      details: { reason: 'no token', operation: 'logs' },
    });
    assert.equal(denied.target?.id, 'x\\u0000y');
    const read = await queue.append({
      ...draft,
      action: 'environment.file.read',
      details: { path: `/tmp/\u0000\ud800${'p'.repeat(2000)}`, grant: 'grt_1', skipped: undefined },
    });
    const path = String(read.details.path);
    assert.ok(path.startsWith('/tmp/\\u0000\\ud800p'));
    assert.equal(path.length, 1000);
    assert.ok(!('skipped' in read.details));
    const wide = await queue.append({
      ...draft,
      details: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
    });
    assert.equal(Object.keys(wide.details).length, 31, 'one member is left for the runnerId');
    assert.equal(wide.details.droppedDetails, 10);

    // A queue written before this rule existed still drains: its records are made storable.
    const old = {
      ...draft,
      localSeq: 4,
      time: new Date().toISOString(),
      target: { kind: 'environment', id: 'old\u0000' },
    };
    await appendFile(join(dir, 'audit-queue.jsonl'), `${JSON.stringify(old)}\n`);
    const reopened = await AuditQueue.open(dir);
    assert.deepEqual(
      reopened.pending().map((record) => record.target?.id),
      ['x\\u0000y', draft.target?.id, draft.target?.id, 'old\\u0000'],
    );
    for (const text of reopened.pending().flatMap(stringsOf)) {
      assert.doesNotMatch(text, /[\p{Cc}\p{Surrogate}]/u);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an action a runner may not report is refused before it is queued', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-queue-'));
  try {
    const queue = await AuditQueue.open(dir);
    await assert.rejects(queue.append({ ...draft, action: 'org.bootstrap' }), /cannot record/);
    assert.equal(queue.size, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
