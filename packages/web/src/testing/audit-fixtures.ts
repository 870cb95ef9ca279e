import type { AuditRecord } from '../audit/types.js';
import type { ExportCheck } from '../audit/verify-export.js';

/** An audit record as the API returns it; `seq` also shapes its hashes. */
export function auditRecordFixture(seq: number, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    orgId: 'org_aaaaaaaaaaaaaaaa',
    seq,
    time: `2026-12-04T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    actor: { kind: 'user', id: 'usr_aaaaaaaaaaaaaaaa' },
    action: 'environment.create',
    target: { kind: 'environment', id: 'env_aaaaaaaaaaaaaaaa' },
    outcome: 'success',
    requestId: `req-${seq}`,
    sourceAddress: '127.0.0.1',
    details: { class: 'small', generation: 1 },
    prevHash: String(seq - 1).padStart(64, '0'),
    hash: String(seq).padStart(64, 'f'),
    ...extra,
  };
}

/** What the browser's chain check answers for a chain of `records` records. */
export function exportCheckFixture(extra: Partial<ExportCheck> = {}): ExportCheck {
  return {
    ok: true,
    records: 42,
    checkpoints: 3,
    headSeq: 42,
    headHash: 'ab'.repeat(32),
    orgId: 'org_aaaaaaaaaaaaaaaa',
    keySource: 'control-plane',
    publicKeyFingerprint: 'SHA256:keykeykeykeykeykeykeykeykeykeykeykeykeykeyk',
    ...extra,
  };
}
