import { importVerifyKey, keyFingerprint, verifyChain } from './chain.js';
import type { AuditExport, ChainVerification } from './types.js';

/** Where the key that checkpoints are checked against came from. */
export type KeySource = 'control-plane' | 'pinned';

/** A verified (or broken) export, with what the reader needs to judge how far to trust it. */
export interface ExportCheck extends ChainVerification {
  orgId: string;
  keySource: KeySource;
  publicKeyFingerprint: string;
  /** The export names another signing key than the trusted one (its own is not used). */
  exportKeyFingerprint?: string;
}

/**
 * Checks an export against a trusted key: the control plane's (`GET /v1/health`), or one the
 * reader pinned. Throws when the trusted key is not an Ed25519 key, or when WebCrypto is missing
 * (a page not served over https or from this machine has none).
 */
export async function checkExport(
  exported: AuditExport,
  trusted: { key: string; source: KeySource },
): Promise<ExportCheck> {
  if (!globalThis.crypto?.subtle) {
    throw new Error(
      'this browser offers no WebCrypto on this page (it needs https), so it cannot verify',
    );
  }
  let key: CryptoKey;
  try {
    key = await importVerifyKey(trusted.key);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const from = trusted.source === 'pinned' ? 'the pinned key' : "the control plane's key";
    throw new Error(`${from} is not a usable Ed25519 key: ${detail}`);
  }
  const verification = await verifyChain(exported.records, exported.checkpoints, key);
  const check: ExportCheck = {
    ...verification,
    orgId: exported.orgId,
    keySource: trusted.source,
    publicKeyFingerprint: await keyFingerprint(trusted.key),
  };
  if (exported.publicKey !== trusted.key) {
    check.exportKeyFingerprint = await keyFingerprint(exported.publicKey).catch(
      () => exported.publicKey,
    );
  }
  return check;
}
