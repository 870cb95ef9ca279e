import { base64Unpadded, base64urlBytes, hexOf, sha256, utf8 } from './bytes.js';
import { canonicalJson } from '../canonical-json.js';
import type { AuditCheckpoint, AuditRecord, ChainProblem, ChainVerification } from './types.js';

// The hashing, signing message and checks below repeat packages/api/src/audit-chain.ts with
// WebCrypto, because browser code may not import that package. `chain.test.ts` runs both on the
// same real and tampered chains and requires the same answer, problem and seq included.

export const genesisHash = '0'.repeat(64);

/** The SHA-256 (hex) of a record's canonical form, `hash` itself excluded. */
export async function hashRecord(record: Omit<AuditRecord, 'hash'>): Promise<string> {
  const { orgId, seq, time, actor, action, target, outcome, requestId, sourceAddress } = record;
  const { details, prevHash } = record;
  const canonical = canonicalJson({
    orgId,
    seq,
    time,
    actor,
    action,
    target,
    outcome,
    requestId,
    sourceAddress,
    details,
    prevHash,
  });
  return hexOf(await sha256(utf8(canonical)));
}

function checkpointMessage(checkpoint: AuditCheckpoint): string {
  const { orgId, seq, hash, time } = checkpoint;
  return `hangar-audit-checkpoint-v1\n${canonicalJson({ orgId, seq, hash, time })}`;
}

/** The control plane's Ed25519 public key (raw 32 bytes, base64url), ready to verify with. */
export async function importVerifyKey(rawBase64url: string): Promise<CryptoKey> {
  const raw = base64urlBytes(rawBase64url);
  if (!raw || raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes of base64url');
  return crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
}

/** `SHA256:` and the unpadded base64 digest of the raw key, as the CLI and OpenSSH print it. */
export async function keyFingerprint(rawBase64url: string): Promise<string> {
  const raw = base64urlBytes(rawBase64url);
  if (!raw) throw new Error('the key is not base64url');
  return `SHA256:${base64Unpadded(await sha256(raw))}`;
}

export async function checkpointSignatureValid(
  checkpoint: AuditCheckpoint,
  key: CryptoKey,
): Promise<boolean> {
  const signature = base64urlBytes(checkpoint.signature);
  if (!signature) return false;
  try {
    return await crypto.subtle.verify(
      'Ed25519',
      key,
      signature,
      utf8(checkpointMessage(checkpoint)),
    );
  } catch {
    return false;
  }
}

/**
 * Recomputes one organization's chain from its first record, then checks every signed checkpoint,
 * and names the first problem: an edited record (its hash no longer matches), a removed one (a gap
 * in the sequence, or the chain ending before a signed checkpoint), a reordered one (a broken
 * previous-hash link), or a checkpoint whose signature fails or whose hash disagrees.
 */
export async function verifyChain(
  records: readonly AuditRecord[],
  checkpoints: readonly AuditCheckpoint[],
  key: CryptoKey,
): Promise<ChainVerification> {
  const hashBySeq = new Map<number, string>();
  let prevHash = genesisHash;
  let expectedSeq = 1;
  const result = (problem?: ChainProblem): ChainVerification => ({
    ok: problem === undefined,
    records: records.length,
    checkpoints: checkpoints.length,
    headSeq: expectedSeq - 1,
    headHash: prevHash,
    ...(problem ? { problem } : {}),
  });

  for (const record of records) {
    const problem = await recordProblem(record, expectedSeq, prevHash);
    if (problem) return result(problem);
    hashBySeq.set(record.seq, record.hash);
    prevHash = record.hash;
    expectedSeq += 1;
  }

  for (const checkpoint of checkpoints) {
    const problem = await checkpointProblem(checkpoint, key, hashBySeq, expectedSeq - 1);
    if (problem) return result(problem);
  }
  return result();
}

async function recordProblem(
  record: AuditRecord,
  expectedSeq: number,
  prevHash: string,
): Promise<ChainProblem | undefined> {
  if (record.seq !== expectedSeq) {
    const reason =
      record.seq > expectedSeq
        ? `record ${expectedSeq} is missing (next present is ${record.seq})`
        : `record ${record.seq} appears out of order after ${expectedSeq - 1}`;
    return { seq: Math.min(record.seq, expectedSeq), reason };
  }
  if (record.prevHash !== prevHash) {
    return { seq: record.seq, reason: 'its previous-hash link does not match the chain' };
  }
  const { hash, ...unhashed } = record;
  if ((await hashRecord(unhashed)) !== hash) {
    return { seq: record.seq, reason: 'its contents do not match its hash (edited)' };
  }
  return undefined;
}

async function checkpointProblem(
  checkpoint: AuditCheckpoint,
  key: CryptoKey,
  hashBySeq: ReadonlyMap<number, string>,
  lastSeq: number,
): Promise<ChainProblem | undefined> {
  if (!(await checkpointSignatureValid(checkpoint, key))) {
    return { seq: checkpoint.seq, reason: 'checkpoint signature is not valid' };
  }
  const chainHash = hashBySeq.get(checkpoint.seq);
  if (chainHash === undefined && checkpoint.seq > lastSeq) {
    return {
      seq: lastSeq + 1,
      reason:
        `records ${lastSeq + 1} to ${checkpoint.seq} are missing: the chain ends at ` +
        `${lastSeq} but a signed checkpoint covers ${checkpoint.seq} ` +
        '(records removed from the end)',
    };
  }
  if (chainHash === undefined) {
    return { seq: checkpoint.seq, reason: 'a signed checkpoint names a missing record' };
  }
  if (chainHash !== checkpoint.hash) {
    return {
      seq: checkpoint.seq,
      reason: 'the chain differs from the signed checkpoint (records rewritten)',
    };
  }
  return undefined;
}
