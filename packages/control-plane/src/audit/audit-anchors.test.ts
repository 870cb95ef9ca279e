import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { HangarError, verifyChain, type AuditCheckpoint } from '@hangar/api';
import type { Database } from '../storage/database.js';
import { testBackends, type TestBackend, type TestDatabase } from '../storage/testing.js';
import { startTestControlPlane } from '../testing/harness.js';
import { AuditLog, type AuditEntry } from './audit-log.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const orgId = 'org_anchors000';

function entry(index: number, outcome: AuditEntry['outcome'] = 'success'): AuditEntry {
  return {
    orgId,
    actor: { kind: 'user', id: 'usr_anchors000' },
    action: 'environment.exec',
    target: { kind: 'environment', id: `env_${index % 3}` },
    outcome,
    requestId: `req_${index}`,
    sourceAddress: '10.0.0.7',
    details: { index },
  };
}

async function anchorLines(path: string): Promise<AuditCheckpoint[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditCheckpoint);
}

function refusedFor(seq: number) {
  return (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'audit_unavailable');
    assert.match(error.message, new RegExp(`extends the last signed checkpoint \\(seq ${seq}\\)`));
    return true;
  };
}

/**
 * What someone with write access to the database can do without the key: delete every record
 * from `fromSeq` and every checkpoint, then chain new records of their own from there.
 */
async function rewriteFrom(db: Database, fromSeq: number, count: number): Promise<void> {
  await db.execute('DELETE FROM audit_records WHERE org_id = ? AND seq >= ?', [orgId, fromSeq]);
  await db.execute('DELETE FROM audit_checkpoints WHERE org_id = ?', [orgId]);
  const kept = await db.query<{ hash: string }>(
    'SELECT hash FROM audit_records WHERE org_id = ? AND seq = ?',
    [orgId, fromSeq - 1],
  );
  await db.execute('UPDATE audit_heads SET seq = ?, hash = ? WHERE org_id = ?', [
    fromSeq - 1,
    kept[0]?.hash ?? '',
    orgId,
  ]);
  const forger = new AuditLog({ db, signingKey: generateKeyPairSync('ed25519').privateKey });
  for (let index = 0; index < count; index += 1) {
    await forger.record(entry(fromSeq + index, 'failure'));
  }
}

for (const backend of testBackends()) {
  describe(`audit anchors on ${backend.kind}`, () => {
    const cleanups: (() => Promise<void>)[] = [];

    after(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    async function setup(handleBackend: TestBackend = backend) {
      const handle: TestDatabase = await handleBackend.open();
      const dir = await mkdtemp(join(tmpdir(), 'hangar-anchors-'));
      cleanups.push(
        () => handle.close(),
        () => rm(dir, { recursive: true, force: true }),
      );
      const anchorPath = join(dir, 'audit-anchors.jsonl');
      const logged: string[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
      const open = () =>
        new AuditLog({
          db: handle.db,
          signingKey: privateKey,
          checkpointEvery: 5,
          anchorPath,
          logger,
        });
      return { db: handle.db, audit: open(), open, anchorPath, logged };
    }

    it('refuses to sign over a tail rewritten after the last signed checkpoint', async () => {
      const { db, audit, anchorPath, logged } = await setup();
      for (let index = 1; index <= 7; index += 1) await audit.record(entry(index));
      assert.equal((await audit.checkpoint(orgId))?.seq, 7);
      assert.equal((await stat(anchorPath)).mode & 0o777, 0o600);
      assert.deepEqual(
        (await anchorLines(anchorPath)).map((line) => line.seq),
        [5, 7],
      );

      await rewriteFrom(db, 4, 6);
      await assert.rejects(audit.checkpoint(orgId), (error: unknown) => {
        refusedFor(7)(error);
        assert.match((error as Error).message, /at seq 7 the record/);
        return true;
      });
      const signed = await db.query('SELECT seq FROM audit_checkpoints WHERE org_id = ?', [orgId]);
      assert.deepEqual(signed, [], 'nothing was signed over the rewritten chain');

      // A periodic checkpoint is refused too, and said so; the record itself is still kept.
      const tenth = await audit.record(entry(10));
      assert.equal(tenth.seq, 10);
      assert.deepEqual(
        await db.query('SELECT seq FROM audit_checkpoints WHERE org_id = ?', [orgId]),
        [],
      );
      assert.ok(logged.some((line) => line.includes('periodic checkpoint not signed')));
      assert.deepEqual(
        (await anchorLines(anchorPath)).map((line) => line.seq),
        [5, 7],
      );
    });

    it('refuses when records were removed from the end, naming the first missing', async () => {
      const { db, audit } = await setup();
      for (let index = 1; index <= 8; index += 1) await audit.record(entry(index));
      await audit.checkpoint(orgId);
      await rewriteFrom(db, 6, 0);
      await assert.rejects(audit.checkpoint(orgId), (error: unknown) => {
        refusedFor(8)(error);
        assert.match((error as Error).message, /at seq 6 the record is missing/);
        return true;
      });
    });

    it('keeps signing an honest chain, across a restart and deleted checkpoint rows', async () => {
      const { db, audit, open, anchorPath } = await setup();
      for (let index = 1; index <= 12; index += 1) await audit.record(entry(index));
      assert.equal((await audit.checkpoint(orgId))?.seq, 12);
      await db.execute('DELETE FROM audit_checkpoints WHERE org_id = ?', [orgId]);

      const restarted = open();
      for (let index = 13; index <= 16; index += 1) await restarted.record(entry(index));
      const checkpoint = await restarted.checkpoint(orgId);
      assert.equal(checkpoint?.seq, 16);
      const exported = await restarted.export(orgId);
      assert.equal(verifyChain(exported.records, exported.checkpoints, publicKey).ok, true);
      assert.deepEqual(
        (await anchorLines(anchorPath)).map((line) => line.seq),
        [5, 10, 12, 15, 16],
      );
    });

    it('anchors a periodic checkpoint only once its transaction committed', async () => {
      const { db, audit, anchorPath } = await setup();
      for (let index = 1; index <= 4; index += 1) await audit.record(entry(index));
      await assert.rejects(
        db.transaction(async (tx) => {
          await audit.append(tx, entry(5));
          throw new HangarError('conflict', 'the action itself failed');
        }),
        /the action itself failed/,
      );
      await assert.rejects(readFile(anchorPath, 'utf8'), { code: 'ENOENT' });

      // Another record takes seq 5; had the rolled-back one been anchored, this would be refused.
      await db.transaction((tx) => audit.append(tx, entry(50)));
      await audit.record(entry(6));
      assert.equal((await audit.checkpoint(orgId))?.seq, 6);
      assert.deepEqual(
        (await anchorLines(anchorPath)).map((line) => line.seq),
        [5, 6],
        'the committed periodic checkpoint is anchored by the next signing',
      );
      const exported = await audit.export(orgId);
      assert.equal(exported.records[4]?.requestId, 'req_50');
      assert.equal(verifyChain(exported.records, exported.checkpoints, publicKey).ok, true);
    });

    it('makes the export route fail loudly instead of signing', async () => {
      const t = await startTestControlPlane(backend, { auditCheckpointEvery: 1000 });
      try {
        const first = await t.request('GET', '/v1/audit/export');
        assert.equal(first.status, 200);
        const anchors = await anchorLines(join(t.dataDir, 'audit-anchors.jsonl'));
        assert.equal(anchors.length, 1);
        assert.equal((await stat(join(t.dataDir, 'audit-anchors.jsonl'))).mode & 0o777, 0o600);

        const { db } = t.cp.context;
        const seq = anchors[0]?.seq ?? 0;
        const org = t.owner.orgId;
        await db.execute('DELETE FROM audit_records WHERE org_id = ? AND seq >= ?', [org, seq]);
        await db.execute('DELETE FROM audit_checkpoints WHERE org_id = ?', [org]);
        await db.execute(
          `UPDATE audit_heads SET seq = ?, hash = (SELECT hash FROM audit_records
             WHERE org_id = ? AND seq = ?) WHERE org_id = ?`,
          [seq - 1, org, seq - 1, org],
        );
        const refused = await t.request<{ code: string; message: string }>(
          'GET',
          '/v1/audit/export',
        );
        assert.equal(refused.status, 503);
        assert.equal(refused.body.code, 'audit_unavailable');
        assert.match(refused.body.message, new RegExp(`last signed checkpoint \\(seq ${seq}\\)`));
      } finally {
        await t.close();
      }
    });
  });
}
