import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { HangarError } from '@hangar/api';
import type { Database } from '../storage/database.js';
import { testBackends, type TestDatabase } from '../storage/testing.js';
import { AuditLog, type AuditEntry } from './audit-log.js';

const { privateKey } = generateKeyPairSync('ed25519');
const orgId = 'org_columns000';
const start = Date.UTC(2024, 4, 1, 12, 0, 0);
const minute = 60_000;

function entry(index: number, actorId: string, targetId: string): AuditEntry {
  return {
    orgId,
    actor: { kind: 'user', id: actorId },
    action: 'environment.exec',
    target: { kind: 'environment', id: targetId },
    outcome: 'success',
    requestId: `req_${index}`,
    sourceAddress: '10.0.0.7',
    details: { index },
    time: new Date(start + index * minute).toISOString(),
  };
}

function refusedAt(seq: number, column: string) {
  return (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'audit_unavailable');
    assert.match(error.message, new RegExp(`audit record ${seq} of ${orgId} has a ${column}`));
    return true;
  };
}

const seqs = (result: { records: { seq: number }[] }) => result.records.map((r) => r.seq);

for (const backend of testBackends()) {
  describe(`audit query columns on ${backend.kind}`, () => {
    const opened: TestDatabase[] = [];

    after(async () => {
      for (const handle of opened) await handle.close();
    });

    async function chain(): Promise<{ db: Database; audit: AuditLog }> {
      const handle = await backend.open();
      opened.push(handle);
      const audit = new AuditLog({ db: handle.db, signingKey: privateKey });
      await audit.record(entry(1, 'usr_alice', 'env_1'));
      await audit.record(entry(2, 'usr_alice', 'env_2'));
      await audit.record(entry(3, 'usr_bob', 'env_1'));
      await audit.record(entry(4, 'usr_alice', 'env_1'));
      return { db: handle.db, audit };
    }

    async function edit(db: Database, column: string, value: string | number, seq: number) {
      const sql = `UPDATE audit_records SET ${column} = ? WHERE org_id = ? AND seq = ?`;
      assert.equal(await db.execute(sql, [value, orgId, seq]), 1);
    }

    it('an edited actor_id neither hides a record nor passes unnoticed', async () => {
      const { db, audit } = await chain();
      assert.deepEqual(seqs(await audit.query(orgId, { actor: 'usr_alice' })), [1, 2, 4]);
      await edit(db, 'actor_id', 'usr_nobody', 2);
      await assert.rejects(audit.query(orgId, { actor: 'usr_alice' }), refusedAt(2, 'actor_id'));
      await assert.rejects(audit.query(orgId), refusedAt(2, 'actor_id'));
      assert.deepEqual(seqs(await audit.query(orgId, { actor: 'usr_nobody' })), []);
      assert.deepEqual(seqs(await audit.query(orgId, { actor: 'usr_bob' })), [3]);
      await assert.rejects(audit.export(orgId), refusedAt(2, 'actor_id'));
    });

    it('an edited target_id or time_ms is caught the same way', async () => {
      const { db, audit } = await chain();
      await edit(db, 'target_id', 'env_9', 4);
      await assert.rejects(audit.query(orgId, { target: 'env_1' }), refusedAt(4, 'target_id'));
      await assert.rejects(audit.export(orgId), refusedAt(4, 'target_id'));
      await edit(db, 'target_id', 'env_1', 4);

      await edit(db, 'time_ms', start, 3);
      const window = {
        since: new Date(start + 3 * minute).toISOString(),
        until: new Date(start + 4 * minute).toISOString(),
      };
      await assert.rejects(audit.query(orgId, window), refusedAt(3, 'time_ms'));
      await assert.rejects(audit.export(orgId), refusedAt(3, 'time_ms'));
      await edit(db, 'time_ms', start + 3 * minute, 3);
      assert.deepEqual(seqs(await audit.query(orgId, window)), [3]);
    });

    it('a record whose JSON no longer parses is refused by queries, yet exported', async () => {
      const { db, audit } = await chain();
      await edit(db, 'target', '{not json', 2);
      await assert.rejects(audit.query(orgId, { actor: 'usr_alice' }), refusedAt(2, 'target_id'));
      assert.equal((await audit.export(orgId)).records.length, 4);
    });

    it('filters match ids exactly on the hashed JSON, whatever characters they hold', async () => {
      const { audit } = await chain();
      const odd = ['usr_"quoted"\\', 'usr_😀é', 'usr_al'];
      for (const [index, id] of odd.entries()) await audit.record(entry(5 + index, id, id));
      for (const [index, id] of odd.entries()) {
        assert.deepEqual(seqs(await audit.query(orgId, { actor: id })), [5 + index], id);
        assert.deepEqual(seqs(await audit.query(orgId, { target: id })), [5 + index], id);
      }
      assert.deepEqual(seqs(await audit.query(orgId, { actor: 'usr_alice' })), [1, 2, 4]);
      assert.deepEqual(seqs(await audit.query(orgId, { target: 'env_1' })), [1, 3, 4]);
    });
  });
}
