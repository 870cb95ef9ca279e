import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { sha256Hex, signBytes, verifyBytes } from './keys.js';
import type { AuditCheckpoint, AuditRecord } from './schemas/audit.js';

export const genesisHash = '0'.repeat(64);

export type UnhashedRecord = Omit<AuditRecord, 'hash'>;

/** The SHA-256 of a record's canonical form, `hash` itself excluded. */
export function hashRecord(record: UnhashedRecord): string {
  const { orgId, seq, time, actor, action, target, outcome, requestId, sourceAddress } = record;
  const { details, prevHash } = record;
  return sha256Hex(
    canonicalJson({
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
    }),
  );
}

function checkpointMessage(checkpoint: Omit<AuditCheckpoint, 'signature'>): string {
  const { orgId, seq, hash, time } = checkpoint;
  return `hangar-audit-checkpoint-v1\n${canonicalJson({ orgId, seq, hash, time })}`;
}

export function signCheckpoint(
  checkpoint: Omit<AuditCheckpoint, 'signature'>,
  privateKey: KeyObject,
): AuditCheckpoint {
  return { ...checkpoint, signature: signBytes(privateKey, checkpointMessage(checkpoint)) };
}

export function verifyCheckpointSignature(checkpoint: AuditCheckpoint, publicKey: KeyObject) {
  return verifyBytes(publicKey, checkpointMessage(checkpoint), checkpoint.signature);
}

export interface ChainProblem {
  seq: number;
  reason: string;
}

export interface ChainVerification {
  ok: boolean;
  records: number;
  checkpoints: number;
  headSeq: number;
  headHash: string;
  problem?: ChainProblem;
}

/**
 * Recomputes one organization's chain from its first record and checks every signed checkpoint.
 * Returns the first problem found: an edited record (its hash no longer matches), a removed one
 * (a gap in the sequence, or the end of the chain before a signed checkpoint: the first missing
 * record is named), a reordered one (its previous-hash link is broken), or a checkpoint whose
 * signature fails or whose hash disagrees with the chain.
 */
export function verifyChain(
  records: readonly AuditRecord[],
  checkpoints: readonly AuditCheckpoint[],
  publicKey: KeyObject,
): ChainVerification {
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
    if (record.seq !== expectedSeq) {
      const reason =
        record.seq > expectedSeq
          ? `record ${expectedSeq} is missing (next present is ${record.seq})`
          : `record ${record.seq} appears out of order after ${expectedSeq - 1}`;
      return result({ seq: Math.min(record.seq, expectedSeq), reason });
    }
    if (record.prevHash !== prevHash) {
      return result({ seq: record.seq, reason: 'its previous-hash link does not match the chain' });
    }
    const { hash, ...unhashed } = record;
    if (hashRecord(unhashed) !== hash) {
      return result({ seq: record.seq, reason: 'its contents do not match its hash (edited)' });
    }
    hashBySeq.set(record.seq, hash);
    prevHash = hash;
    expectedSeq += 1;
  }

  for (const checkpoint of checkpoints) {
    if (!verifyCheckpointSignature(checkpoint, publicKey)) {
      return result({ seq: checkpoint.seq, reason: 'checkpoint signature is not valid' });
    }
    const chainHash = hashBySeq.get(checkpoint.seq);
    const lastSeq = expectedSeq - 1;
    if (chainHash === undefined && checkpoint.seq > lastSeq) {
      return result({
        seq: lastSeq + 1,
        reason:
          `records ${lastSeq + 1} to ${checkpoint.seq} are missing: the chain ends at ` +
          `${lastSeq} but a signed checkpoint covers ${checkpoint.seq} ` +
          '(records removed from the end)',
      });
    }
    if (chainHash === undefined) {
      return result({ seq: checkpoint.seq, reason: 'a signed checkpoint names a missing record' });
    }
    if (chainHash !== checkpoint.hash) {
      return result({
        seq: checkpoint.seq,
        reason: 'the chain differs from the signed checkpoint (records rewritten)',
      });
    }
  }
  return result();
}
