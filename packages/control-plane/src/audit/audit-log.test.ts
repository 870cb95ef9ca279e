import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  HangarError,
  genesisHash,
  hashRecord,
  publicKeyObject,
  verifyChain,
  verifyCheckpointSignature,
} from '@hangar/api';
import type { Database } from '../storage/database.js';
import { testBackends, type TestDatabase } from '../storage/testing.js';
import { AuditLog, type AuditEntry } from './audit-log.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');

function entry(orgId: string, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    orgId,
    actor: { kind: 'user', id: 'usr_alice0000' },
    action: 'environment.create',
    target: { kind: 'environment', id: 'env_one000000' },
    outcome: 'success',
    requestId: 'req_1',
    sourceAddress: '127.0.0.1',
    details: { name: 'one', attempt: 1, fresh: true, note: null },
    ...overrides,
  };
}

async function appendMany(audit: AuditLog, orgId: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await audit.record(entry(orgId, { requestId: `req_${index}`, details: { index } }));
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof HangarError ? error.code : undefined;
}

for (const backend of testBackends()) {
  describe(`audit log on ${backend.kind}`, () => {
    let handle: TestDatabase;
    let db: Database;
    let audit: AuditLog;

    before(async () => {
      handle = await backend.open();
      db = handle.db;
      audit = new AuditLog({ db, signingKey: privateKey, checkpointEvery: 10 });
    });

    after(async () => {
      await handle.close();
    });

    it('chains records from the genesis hash, each hash over the record', async () => {
      const first = await audit.record(entry('org_chain'));
      const second = await audit.record(entry('org_chain', { outcome: 'denied' }));
      assert.equal(first.seq, 1);
      assert.equal(first.prevHash, genesisHash);
      assert.equal(second.seq, 2);
      assert.equal(second.prevHash, first.hash);
      const { hash, ...unhashed } = second;
      assert.equal(hashRecord(unhashed), hash);
      assert.deepEqual(await audit.head('org_chain'), { seq: 2, hash: second.hash });
    });

    it('exports exactly what it appended, and verifyChain passes over the export', async () => {
      const appended = [];
      for (let index = 0; index < 5; index += 1) {
        appended.push(await audit.record(entry('org_export', { details: { index } })));
      }
      const exported = await audit.export('org_export');
      assert.deepEqual(exported.records, appended);
      assert.equal(exported.orgId, 'org_export');
      const result = verifyChain(
        exported.records,
        exported.checkpoints,
        publicKeyObject(exported.publicKey),
      );
      assert.equal(result.ok, true);
      assert.equal(result.headSeq, 5);
    });

    it('keeps one chain per organization', async () => {
      await audit.record(entry('org_a'));
      await audit.record(entry('org_b'));
      const a = await audit.record(entry('org_a'));
      assert.equal(a.seq, 2);
      assert.equal((await audit.export('org_b')).records.length, 1);
    });

    it('uses a given time, normalized to UTC', async () => {
      const record = await audit.record(entry('org_time', { time: '2024-05-01T14:00:00+02:00' }));
      assert.equal(record.time, '2024-05-01T12:00:00.000Z');
      const fromDate = await audit.record(entry('org_time', { time: new Date(0) }));
      assert.equal(fromDate.time, '1970-01-01T00:00:00.000Z');
    });

    it('produces a gapless chain from 200 concurrent appends', async () => {
      const records = await Promise.all(
        Array.from({ length: 200 }, (_, index) =>
          audit.record(entry('org_parallel', { requestId: `req_${index}`, details: { index } })),
        ),
      );
      assert.deepEqual(
        records.map((record) => record.seq).sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, index) => index + 1),
      );
      const exported = await audit.export('org_parallel');
      assert.equal(exported.records.length, 200);
      assert.equal(verifyChain(exported.records, exported.checkpoints, publicKey).ok, true);
      assert.deepEqual(
        exported.checkpoints.map((checkpoint) => checkpoint.seq),
        Array.from({ length: 20 }, (_, index) => (index + 1) * 10),
      );
    });

    it('signs a checkpoint every checkpointEvery records, which verifies', async () => {
      await appendMany(audit, 'org_checkpoints', 25);
      const exported = await audit.export('org_checkpoints');
      assert.deepEqual(
        exported.checkpoints.map((checkpoint) => checkpoint.seq),
        [10, 20],
      );
      for (const checkpoint of exported.checkpoints) {
        assert.equal(verifyCheckpointSignature(checkpoint, publicKey), true);
        assert.equal(checkpoint.hash, exported.records[checkpoint.seq - 1]?.hash);
      }
      const other = generateKeyPairSync('ed25519').publicKey;
      const forged = verifyChain(exported.records, exported.checkpoints, other);
      assert.equal(forged.ok, false);
      assert.equal(forged.problem?.seq, 10);
    });

    it('checkpoints the head on demand, once', async () => {
      assert.equal(await audit.checkpoint('org_nothing_yet'), null);
      await appendMany(audit, 'org_on_demand', 3);
      const first = await audit.checkpoint('org_on_demand');
      const again = await audit.checkpoint('org_on_demand');
      assert.ok(first);
      assert.equal(first.seq, 3);
      assert.deepEqual(again, first);
      assert.equal(verifyCheckpointSignature(first, publicKey), true);
      assert.equal((await audit.export('org_on_demand')).checkpoints.length, 1);
    });

    it('publishes the raw public key of its signing key', () => {
      const expected = createPublicKey(privateKey).export({ format: 'jwk' }).x;
      assert.equal(audit.publicKey, expected);
    });

    it('refuses structured details: records hold scalars only', async () => {
      const bad: unknown[] = [{ nested: 'secret' }, ['a'], Number.NaN, () => 1, 10n];
      for (const value of bad) {
        const details = { value } as unknown as AuditEntry['details'];
        await assert.rejects(audit.record(entry('org_bad', { details })), (error: unknown) => {
          assert.equal(codeOf(error), 'invalid_request');
          assert.equal((error as HangarError).fields?.[0]?.field, 'details.value');
          return true;
        });
      }
      assert.equal(await audit.head('org_bad'), null);
    });

    it('drops undefined details members', async () => {
      const record = await audit.record(
        entry('org_undefined', { details: { kept: 1, dropped: undefined } }),
      );
      assert.deepEqual(record.details, { kept: 1 });
    });

    it('refuses malformed entries, naming the field', async () => {
      const cases: [Partial<AuditEntry>, string][] = [
        [{ orgId: '' }, 'orgId'],
        [{ action: 'Environment Create' }, 'action'],
        [{ action: 'create' }, 'action'],
        [{ time: 'yesterday' }, 'time'],
        [{ time: new Date(Number.NaN) }, 'time'],
        [{ actor: { kind: 'robot', id: 'x' } as unknown as AuditEntry['actor'] }, 'actor.kind'],
        [{ outcome: 'maybe' as AuditEntry['outcome'] }, 'outcome'],
        [{ requestId: 'x'.repeat(101) }, 'requestId'],
        [{ details: { ['k'.repeat(65)]: 1 } }, 'details'],
        [{ details: { long: 'x'.repeat(1001) } }, 'details.long'],
        [{ sourceAddress: 'a\u0000b' }, 'sourceAddress'],
        [{ requestId: 'a\ud800b' }, 'requestId'],
        [{ details: { note: 'x\udc00' } }, 'details.note'],
        [{ details: { ['k\u0000']: 1 } }, 'details.k'],
      ];
      for (const [overrides, field] of cases) {
        await assert.rejects(audit.record(entry('org_bad', overrides)), (error: unknown) => {
          assert.equal(codeOf(error), 'invalid_request', JSON.stringify(overrides));
          const fields = (error as HangarError).fields?.map((item) => item.field) ?? [];
          assert.ok(
            fields.some((name) => name.startsWith(field)),
            `${field} in ${fields.join()}`,
          );
          return true;
        });
      }
    });

    it('keeps text outside ASCII intact, so the chain still verifies', async () => {
      const text = 'Zoë 🚀 配置 \u2028';
      await audit.record(entry('org_unicode', { requestId: text, details: { note: text } }));
      const exported = await audit.export('org_unicode');
      assert.equal(exported.records[0]?.requestId, text);
      assert.equal(exported.records[0]?.details.note, text);
      assert.equal(verifyChain(exported.records, exported.checkpoints, publicKey).ok, true);
    });

    it('refuses a signing key that is not an Ed25519 private key', () => {
      assert.throws(() => new AuditLog({ db, signingKey: publicKey }), /Ed25519 private key/);
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
      assert.throws(() => new AuditLog({ db, signingKey: rsa }), /Ed25519 private key/);
      assert.throws(
        () => new AuditLog({ db, signingKey: privateKey, checkpointEvery: 0 }),
        /positive integer/,
      );
    });
  });
}
