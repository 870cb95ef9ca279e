import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import {
  genesisHash,
  hashRecord,
  signCheckpoint,
  verifyChain,
  type UnhashedRecord,
} from './audit-chain.js';
import type { AuditCheckpoint, AuditRecord } from './schemas/audit.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const orgId = 'org_chain0000';

function chainOf(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prevHash = genesisHash;
  for (let seq = 1; seq <= count; seq += 1) {
    const unhashed: UnhashedRecord = {
      orgId,
      seq,
      time: new Date(Date.UTC(2024, 0, 1, 0, seq)).toISOString(),
      actor: { kind: 'user', id: 'usr_alice' },
      action: 'environment.create',
      target: { kind: 'environment', id: `env_${seq}` },
      outcome: 'success',
      requestId: `req_${seq}`,
      sourceAddress: '127.0.0.1',
      details: { seq },
      prevHash,
    };
    const record = { ...unhashed, hash: hashRecord(unhashed) };
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

function checkpointAt(records: readonly AuditRecord[], seq: number): AuditCheckpoint {
  const record = records[seq - 1];
  assert.ok(record);
  return signCheckpoint({ orgId, seq, hash: record.hash, time: record.time }, privateKey);
}

test('an intact chain with its checkpoints verifies', () => {
  const records = chainOf(10);
  const result = verifyChain(
    records,
    [checkpointAt(records, 5), checkpointAt(records, 10)],
    publicKey,
  );
  assert.equal(result.ok, true);
  assert.equal(result.headSeq, 10);
});

test('records removed from the end name the first missing one, not the checkpoint', () => {
  const records = chainOf(10);
  const checkpoints = [checkpointAt(records, 5), checkpointAt(records, 10)];
  const result = verifyChain(records.slice(0, 7), checkpoints, publicKey);
  assert.equal(result.ok, false);
  assert.equal(result.problem?.seq, 8);
  assert.match(result.problem?.reason ?? '', /records 8 to 10 are missing/);
  assert.match(result.problem?.reason ?? '', /removed from the end/);

  const none = verifyChain([], checkpoints, publicKey);
  assert.equal(none.problem?.seq, 1);
});

test('a gap inside the chain and a forged checkpoint are still named as before', () => {
  const records = chainOf(6);
  const gap = verifyChain(
    records.filter((record) => record.seq !== 3),
    [],
    publicKey,
  );
  assert.equal(gap.problem?.seq, 3);
  assert.match(gap.problem?.reason ?? '', /missing/);

  const other = generateKeyPairSync('ed25519').privateKey;
  const record = records[5];
  assert.ok(record);
  const forged = signCheckpoint({ orgId, seq: 9, hash: record.hash, time: record.time }, other);
  const result = verifyChain(records, [forged], publicKey);
  assert.equal(result.problem?.seq, 9);
  assert.match(result.problem?.reason ?? '', /signature is not valid/);
});
