import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { HangarError, verifyChain, type AuditExport } from '@hangar/api';
import type { Database } from '../storage/database.js';
import { testBackends, type TestBackend, type TestDatabase } from '../storage/testing.js';
import { AuditLog, type AuditEntry } from './audit-log.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const orgId = 'org_integrity0';

function entry(index: number): AuditEntry {
  return {
    orgId,
    actor: { kind: 'agent', id: 'agt_1', onBehalfOf: 'usr_bob' },
    action: 'environment.exec',
    target: { kind: 'environment', id: `env_${index % 3}` },
    outcome: 'success',
    requestId: `req_${index}`,
    sourceAddress: '10.0.0.7',
    details: { commandSha256: 'ab'.repeat(32), exitCode: index % 2, durationMs: index * 3 },
  };
}

function verify(exported: AuditExport) {
  return verifyChain(exported.records, exported.checkpoints, publicKey);
}

/** A fresh database holding one organization's chain of `count` records. */
async function chainOf(backend: TestBackend, count: number, opened: TestDatabase[]) {
  const handle = await backend.open();
  opened.push(handle);
  const audit = new AuditLog({ db: handle.db, signingKey: privateKey, checkpointEvery: 5 });
  for (let index = 1; index <= count; index += 1) await audit.record(entry(index));
  assert.equal(verify(await audit.export(orgId)).ok, true);
  return { db: handle.db, audit };
}

async function createOrgTable(db: Database): Promise<void> {
  await db.execute('CREATE TABLE actions_done (id TEXT PRIMARY KEY)');
}

for (const backend of testBackends()) {
  describe(`audit integrity on ${backend.kind}`, () => {
    const opened: TestDatabase[] = [];

    after(async () => {
      for (const handle of opened) await handle.close();
    });

    it('names the record whose details were edited in the database', async () => {
      const { db, audit } = await chainOf(backend, 8, opened);
      await db.execute('UPDATE audit_records SET details = ? WHERE org_id = ? AND seq = ?', [
        '{"commandSha256":"00","durationMs":1,"exitCode":0}',
        orgId,
        4,
      ]);
      const result = verify(await audit.export(orgId));
      assert.equal(result.ok, false);
      assert.equal(result.problem?.seq, 4);
      assert.match(result.problem?.reason ?? '', /edited/);
    });

    it('names a record edited into unreadable JSON instead of failing the export', async () => {
      const { db, audit } = await chainOf(backend, 3, opened);
      await db.execute('UPDATE audit_records SET actor = ? WHERE org_id = ? AND seq = ?', [
        '{not json',
        orgId,
        2,
      ]);
      const result = verify(await audit.export(orgId));
      assert.equal(result.problem?.seq, 2);
    });

    it('names the record that was deleted', async () => {
      const { db, audit } = await chainOf(backend, 8, opened);
      await db.execute('DELETE FROM audit_records WHERE org_id = ? AND seq = ?', [orgId, 6]);
      const result = verify(await audit.export(orgId));
      assert.equal(result.ok, false);
      assert.equal(result.problem?.seq, 6);
      assert.match(result.problem?.reason ?? '', /missing/);
    });

    it('names the first of two records that were swapped', async () => {
      const { db, audit } = await chainOf(backend, 8, opened);
      const swap = [
        [-1, 3],
        [3, 4],
        [4, -1],
      ];
      await db.transaction(async (tx) => {
        for (const [to, from] of swap) {
          await tx.execute('UPDATE audit_records SET seq = ? WHERE org_id = ? AND seq = ?', [
            to ?? 0,
            orgId,
            from ?? 0,
          ]);
        }
      });
      const result = verify(await audit.export(orgId));
      assert.equal(result.ok, false);
      assert.equal(result.problem?.seq, 3);
    });

    it('catches a consistently rewritten tail through the signed checkpoints', async () => {
      const { db, audit } = await chainOf(backend, 7, opened);
      const exported = await audit.export(orgId);
      await db.execute('DELETE FROM audit_records WHERE org_id = ? AND seq >= ?', [orgId, 4]);
      await db.execute('UPDATE audit_heads SET seq = ?, hash = ? WHERE org_id = ?', [
        3,
        exported.records[2]?.hash ?? '',
        orgId,
      ]);
      const forger = new AuditLog({ db, signingKey: generateKeyPairSync('ed25519').privateKey });
      for (let index = 4; index <= 7; index += 1) {
        await forger.record({ ...entry(index), outcome: 'failure' });
      }
      const result = verify(await audit.export(orgId));
      assert.equal(result.ok, false);
      assert.equal(result.problem?.seq, 5);
      assert.match(result.problem?.reason ?? '', /signed checkpoint/);
    });

    it('fails closed: when the record cannot be written, the action rolls back', async () => {
      const { db, audit } = await chainOf(backend, 2, opened);
      await createOrgTable(db);
      await db.execute('ALTER TABLE audit_records RENAME TO audit_records_away');
      try {
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.execute('INSERT INTO actions_done (id) VALUES (?)', ['act_refused']);
            await audit.append(tx, entry(3));
          }),
          (error: unknown) => {
            assert.ok(error instanceof HangarError);
            assert.equal(error.code, 'audit_unavailable');
            assert.match(error.message, /environment\.exec could not be written/);
            return true;
          },
        );
        assert.deepEqual(await db.query('SELECT id FROM actions_done'), []);
        await assert.rejects(audit.record(entry(3)), (error: unknown) => {
          assert.equal((error as HangarError).code, 'audit_unavailable');
          return true;
        });
      } finally {
        await db.execute('ALTER TABLE audit_records_away RENAME TO audit_records');
      }
      assert.deepEqual(await audit.head(orgId), {
        seq: 2,
        hash: (await audit.export(orgId)).records[1]?.hash,
      });

      await db.transaction(async (tx) => {
        await tx.execute('INSERT INTO actions_done (id) VALUES (?)', ['act_allowed']);
        await audit.append(tx, entry(3));
      });
      assert.deepEqual(await db.query('SELECT id FROM actions_done'), [{ id: 'act_allowed' }]);
      assert.equal(verify(await audit.export(orgId)).ok, true);
    });

    it('fails closed: when the caller action fails, its record is not kept', async () => {
      const { db, audit } = await chainOf(backend, 2, opened);
      await assert.rejects(
        db.transaction(async (tx) => {
          await audit.append(tx, entry(3));
          throw new HangarError('conflict', 'the action itself failed');
        }),
        /the action itself failed/,
      );
      assert.equal((await audit.head(orgId))?.seq, 2);
      assert.equal((await audit.record(entry(3))).seq, 3);
      assert.equal(verify(await audit.export(orgId)).ok, true);
    });
  });
}
