// The browser's verifier against the one `hangar audit verify` runs (@hangar/api's verifyChain),
// on a chain a real control plane wrote, untouched and tampered with in every way the chain is
// meant to catch: both must give the same answer, down to the problem's seq and reason.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  canonicalJson as apiCanonicalJson,
  fingerprint,
  hashRecord as apiHashRecord,
  publicKeyObject,
  signCheckpoint,
  verifyChain as apiVerifyChain,
} from '@hangar/api';
import { testBackends } from '@hangar/control-plane/storage/testing.js';
import {
  startTestControlPlane,
  type TestControlPlane,
} from '@hangar/control-plane/testing/harness.js';
import { canonicalJson } from '../canonical-json.js';
import { importVerifyKey, verifyChain } from './chain.js';
import { jsonLinesOf } from './json-lines.js';
import type { AuditExport, AuditRecord, ChainVerification } from './types.js';
import { checkExport } from './verify-export.js';

let t: TestControlPlane;
let exported: AuditExport;
let controlPlaneKey: string;

const sqlite = testBackends().find((backend) => backend.kind === 'sqlite');

before(async () => {
  if (!sqlite) throw new Error('no SQLite test backend');
  t = await startTestControlPlane(sqlite, { auditCheckpointEvery: 4 });
  for (let index = 1; index <= 13; index += 1) {
    const made = await t.request('POST', '/v1/runners', { body: { name: `box-${index}` } });
    assert.equal(made.status, 201);
  }
  exported = await exportNow();
  controlPlaneKey = (await t.request<{ publicKey: string }>('GET', '/v1/health')).body.publicKey;
});

after(async () => {
  await t?.close();
});

async function exportNow(): Promise<AuditExport> {
  const answer = await t.request<AuditExport>('GET', '/v1/audit/export');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Both verifiers on the same records, checkpoints and trusted key; they must agree entirely. */
async function bothVerify(chain: AuditExport, key = controlPlaneKey): Promise<ChainVerification> {
  const expected = apiVerifyChain(chain.records, chain.checkpoints, publicKeyObject(key));
  const actual = await verifyChain(chain.records, chain.checkpoints, await importVerifyKey(key));
  assert.deepEqual(actual, expected);
  return actual;
}

function tampered(change: (chain: AuditExport) => void): AuditExport {
  const copy = structuredClone(exported);
  change(copy);
  return copy;
}

function withoutHash(target: AuditRecord): Omit<AuditRecord, 'hash'> {
  const copy: Partial<AuditRecord> = { ...target };
  delete copy.hash;
  return copy as Omit<AuditRecord, 'hash'>;
}

function record(chain: AuditExport, seq: number): AuditRecord {
  const found = chain.records.find((candidate) => candidate.seq === seq);
  assert.ok(found, `record ${seq}`);
  return found;
}

test('the real chain verifies in both, with the same head and counts', async () => {
  assert.ok(exported.records.length >= 14);
  assert.ok(exported.checkpoints.length >= 3);
  const result = await bothVerify(exported);
  assert.equal(result.ok, true);
  assert.equal(result.headSeq, exported.records.at(-1)?.seq);
  assert.equal(result.headHash, exported.records.at(-1)?.hash);
});

test('a changed record is found at its seq by both', async () => {
  const edited = tampered((chain) => {
    record(chain, 6).details = { name: 'box-edited' };
  });
  const result = await bothVerify(edited);
  assert.deepEqual(result.problem, {
    seq: 6,
    reason: 'its contents do not match its hash (edited)',
  });
  const actor = tampered((chain) => {
    record(chain, 9).actor.onBehalfOf = 'usr_someoneelse0';
  });
  assert.equal((await bothVerify(actor)).problem?.seq, 9);
});

test('a broken previous-hash link is found at its seq by both', async () => {
  const relinked = tampered((chain) => {
    const target = record(chain, 7);
    target.prevHash = record(chain, 5).hash;
    target.hash = apiHashRecord(withoutHash(target));
  });
  const result = await bothVerify(relinked);
  assert.equal(result.problem?.seq, 7);
  assert.match(result.problem?.reason ?? '', /previous-hash link/);
});

test('removed, reordered and truncated records are found at the same seq by both', async () => {
  const removed = tampered((chain) => {
    chain.records.splice(4, 1);
  });
  assert.equal((await bothVerify(removed)).problem?.seq, 5);
  const swapped = tampered((chain) => {
    const [a, b] = [chain.records[7], chain.records[8]];
    if (!a || !b) throw new Error('short chain');
    chain.records.splice(7, 2, b, a);
  });
  assert.equal((await bothVerify(swapped)).problem?.seq, 8);
  const truncated = tampered((chain) => {
    chain.records.splice(-2, 2);
  });
  const last = exported.records.length;
  assert.equal((await bothVerify(truncated)).problem?.seq, last - 1);
});

test('a bad checkpoint signature is found at the checkpoint seq by both', async () => {
  const flipped = tampered((chain) => {
    const checkpoint = chain.checkpoints[1];
    if (!checkpoint) throw new Error('no second checkpoint');
    const first = checkpoint.signature[0] === 'A' ? 'B' : 'A';
    checkpoint.signature = `${first}${checkpoint.signature.slice(1)}`;
  });
  const result = await bothVerify(flipped);
  assert.deepEqual(result.problem, {
    seq: exported.checkpoints[1]?.seq,
    reason: 'checkpoint signature is not valid',
  });
  const garbled = tampered((chain) => {
    const checkpoint = chain.checkpoints[0];
    if (checkpoint) checkpoint.signature = 'not base64url!';
  });
  assert.equal((await bothVerify(garbled)).problem?.seq, exported.checkpoints[0]?.seq);
});

test('a checkpoint signed by another key, or checked against another key, fails in both', async () => {
  const other = generateKeyPairSync('ed25519');
  const forged = tampered((chain) => {
    const checkpoint = chain.checkpoints[2];
    if (!checkpoint) throw new Error('no third checkpoint');
    const { orgId, seq, hash, time } = checkpoint;
    chain.checkpoints[2] = signCheckpoint({ orgId, seq, hash, time }, other.privateKey);
  });
  assert.equal((await bothVerify(forged)).problem?.seq, exported.checkpoints[2]?.seq);
  const otherRaw = other.publicKey.export({ format: 'jwk' }).x ?? '';
  const result = await bothVerify(exported, otherRaw);
  assert.equal(result.problem?.seq, exported.checkpoints[0]?.seq);
});

test('a rewritten tail that hashes well is caught by the signed checkpoint in both', async () => {
  const rewritten = tampered((chain) => {
    let prevHash = record(chain, 4).hash;
    for (const target of chain.records.filter((candidate) => candidate.seq >= 5)) {
      if (target.seq === 5) target.details = { name: 'box-rewritten' };
      target.prevHash = prevHash;
      target.hash = apiHashRecord(withoutHash(target));
      prevHash = target.hash;
    }
  });
  const result = await bothVerify(rewritten);
  assert.equal(result.problem?.seq, exported.checkpoints.find((c) => c.seq >= 5)?.seq);
  assert.match(result.problem?.reason ?? '', /records rewritten/);
});

test('rows edited in the database are named at the same seq by both', async () => {
  const db = t.cp.context.db;
  await db.execute('UPDATE audit_records SET details = ? WHERE seq = ?', ['{"name":"x"}', 3]);
  assert.equal((await bothVerify(await exportNow())).problem?.seq, 3);
  await db.execute('UPDATE audit_records SET actor = ? WHERE seq = ?', ['{not json', 2]);
  const unreadable = await exportNow();
  assert.match(record(unreadable, 2).actor.id, /^unreadable actor/);
  assert.equal((await bothVerify(unreadable)).problem?.seq, 2);
});

test('canonical JSON is the same text as the api writes', () => {
  const values: unknown[] = [
    { b: 1, a: [3, undefined, { z: null, y: 'é' }], é: true, A: -0, Z: 1e21, e: undefined },
    ['\u2028', '"quoted"\n', { '\ud83d\ude00': 1, '\uffff': 2, '': 0 }],
    'plain',
    12.5,
    null,
  ];
  for (const value of values) assert.equal(canonicalJson(value), apiCanonicalJson(value));
  assert.throws(() => canonicalJson({ n: Number.NaN }), /finite/);
});

test('the export check names the key it trusted, and a key the export names instead', async () => {
  const check = await checkExport(exported, { key: controlPlaneKey, source: 'control-plane' });
  assert.equal(check.ok, true);
  assert.equal(check.publicKeyFingerprint, fingerprint(controlPlaneKey));
  assert.equal(check.exportKeyFingerprint, undefined);
  const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x ?? '';
  const pinned = await checkExport(exported, { key: other, source: 'pinned' });
  assert.equal(pinned.ok, false);
  assert.equal(pinned.publicKeyFingerprint, fingerprint(other));
  assert.equal(pinned.exportKeyFingerprint, fingerprint(controlPlaneKey));
  await assert.rejects(
    checkExport(exported, { key: 'abc', source: 'pinned' }),
    /the pinned key is not a usable Ed25519 key/,
  );
});

test('JSON Lines hold one record per line, each parsing back to the record', () => {
  const text = jsonLinesOf(exported);
  assert.ok(text.endsWith('\n'));
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, exported.records.length);
  assert.deepEqual(
    lines.map((line) => JSON.parse(line) as unknown),
    exported.records,
  );
});
