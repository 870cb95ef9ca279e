import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { AuditDraft } from '../audit-queue.js';
import { ActivityTracker } from './activity.js';
import { SessionRegistry, type SessionStart } from './registry.js';

function setup(options: { failAudit?: boolean } = {}) {
  const records: AuditDraft[] = [];
  const activity = new ActivityTracker();
  const registry = new SessionRegistry({
    audit: {
      append: async (draft) => {
        if (options.failAudit) throw new Error('disk full');
        records.push(draft);
      },
    },
    logger: pino({ level: 'silent' }),
    onActivity: (id) => activity.touch(id),
  });
  return { records, registry, activity };
}

function start(overrides: Partial<SessionStart> = {}): SessionStart & { closed: string[] } {
  const closed: string[] = [];
  return {
    kind: 'ssh',
    environmentId: 'env_aaaaaaaaaaaaaaaa',
    actor: { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' },
    grant: 'grt_aaaaaaaaaaaaaaaa',
    requestId: 'req_aaaaaaaaaaaaaaaa',
    sourceAddress: '127.0.0.1',
    close: (reason) => closed.push(reason),
    closed,
    ...overrides,
  };
}

test('a session is audited at its start and once at its end, with the bytes it moved', async () => {
  const { records, registry, activity } = setup();
  const session = await registry.open(start({ details: { port: 3000 } }));
  session.addBytesIn(10);
  session.addBytesIn(5);
  session.addBytesOut(100);
  await session.end('success');
  await session.end('failure', 'twice');
  assert.deepEqual(
    records.map((r) => r.action),
    ['session.start', 'session.end'],
  );
  const [begin, end] = records;
  assert.equal(begin?.details.kind, 'ssh');
  assert.equal(begin?.details.port, 3000);
  assert.equal(begin?.details.grant, 'grt_aaaaaaaaaaaaaaaa');
  assert.equal(end?.details.session, session.id);
  assert.equal(end?.details.bytesIn, 15);
  assert.equal(end?.details.bytesOut, 100);
  assert.equal(end?.outcome, 'success');
  assert.ok(activity.lastActiveAt('env_aaaaaaaaaaaaaaaa'));
  assert.equal(registry.list().length, 0);
});

test('a session whose start cannot be audited is not opened', async () => {
  const { registry } = setup({ failAudit: true });
  await assert.rejects(registry.open(start()), /disk full/);
  assert.equal(registry.list().length, 0);
});

test('closeWhere ends only the sessions that match every given field', async () => {
  const { registry } = setup();
  const mine = start();
  const otherEnv = start({ environmentId: 'env_bbbbbbbbbbbbbbbb' });
  const otherActor = start({ actor: { kind: 'user', id: 'usr_bbbbbbbbbbbbbbbb' } });
  const terminal = start({ kind: 'terminal' });
  for (const s of [mine, otherEnv, otherActor, terminal]) await registry.open(s);

  assert.equal(
    registry.closeWhere(
      { environmentId: 'env_aaaaaaaaaaaaaaaa', actorId: 'usr_aaaaaaaaaaaaaaaa', kind: 'ssh' },
      'revoked',
    ),
    1,
  );
  assert.deepEqual(mine.closed, ['revoked']);
  assert.deepEqual([otherEnv.closed, otherActor.closed, terminal.closed], [[], [], []]);

  assert.equal(registry.closeWhere({ environmentId: 'env_aaaaaaaaaaaaaaaa' }, 'stopped'), 3);
  assert.deepEqual(otherActor.closed, ['stopped']);
  assert.deepEqual(otherEnv.closed, []);
});

test('a close callback that throws does not stop the others from closing', async () => {
  const { registry } = setup();
  const bad = start({
    close: () => {
      throw new Error('boom');
    },
  });
  const good = start();
  await registry.open(bad);
  await registry.open(good);
  assert.equal(registry.closeWhere({ environmentId: 'env_aaaaaaaaaaaaaaaa' }, 'deleted'), 2);
  assert.deepEqual(good.closed, ['deleted']);
});

test('activity is reported once per change, with the latest time', () => {
  let now = 1_000;
  const tracker = new ActivityTracker(() => now);
  tracker.touch('env_a');
  tracker.touch('env_b');
  now = 2_000;
  tracker.touch('env_a');
  assert.deepEqual(tracker.takeUnreported(), [
    { environmentId: 'env_a', lastActiveAt: new Date(2_000).toISOString() },
    { environmentId: 'env_b', lastActiveAt: new Date(1_000).toISOString() },
  ]);
  assert.deepEqual(tracker.takeUnreported(), []);
  tracker.forget('env_a');
  assert.equal(tracker.lastActiveAt('env_a'), undefined);
});
