import { fingerprint, isValidX25519PublicKey } from '@hangar/api';
import type { Context } from '../context.js';
import { recordConnectRefusal } from './runner-trust.js';
import type { RunnerRow } from './runners.js';

/**
 * Refuses a hello whose published X25519 key is not one (audited as a failed connect): secrets
 * sealed to it could never open. A hello without a key is fine; the runner gets no secrets.
 */
export async function checkEncryptionKey(
  context: Context,
  runner: RunnerRow,
  encryptionKey: string | undefined,
  sourceAddress: string,
): Promise<void> {
  if (encryptionKey === undefined || isValidX25519PublicKey(encryptionKey)) return;
  await recordConnectRefusal(context, runner, {
    outcome: 'failure',
    reason: 'the published encryption key is not an X25519 public key',
    sourceAddress,
  });
  throw new Error(
    'encryptionKey is not a raw X25519 public key (32 bytes, base64url); fix the runner key file',
  );
}

/**
 * Stores the key a runner published in its hello, after `checkEncryptionKey`. A runner that
 * publishes a new key keeps working; secrets sealed to its old key no longer open on it until
 * they are set again (`hangar secret set` seals to the key stored now). A hello without a key
 * leaves the stored one.
 */
export async function storeEncryptionKey(
  context: Context,
  runner: RunnerRow,
  encryptionKey: string | undefined,
): Promise<void> {
  if (encryptionKey === undefined || encryptionKey === runner.encryption_key) return;
  await context.db.execute('UPDATE runners SET encryption_key = ? WHERE id = ?', [
    encryptionKey,
    runner.id,
  ]);
  context.logger.info(
    {
      runnerId: runner.id,
      encryptionKeyFingerprint: fingerprint(encryptionKey),
      replaced: runner.encryption_key !== null,
    },
    'runner published its encryption key',
  );
}
