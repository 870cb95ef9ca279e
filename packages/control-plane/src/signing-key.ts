import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  generateEd25519,
  isValidPublicKey,
  privateKeyObject,
  publicKeyObject,
  type Ed25519KeyPair,
} from '@hangar/api';

export interface SigningKey {
  publicKeyRaw: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

function isKeyPair(value: unknown): value is Ed25519KeyPair {
  const pair = value as Partial<Ed25519KeyPair> | null;
  return typeof pair?.publicKey === 'string' && typeof pair.privateKey === 'string';
}

/**
 * The control plane's Ed25519 key, which signs access tokens and audit checkpoints. Created once
 * in the data directory (mode 0600) and reused; losing it invalidates every outstanding token.
 */
export async function loadOrCreateSigningKey(dataDir: string): Promise<SigningKey> {
  const path = join(dataDir, 'control-plane-key.json');
  let pair: Ed25519KeyPair;
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!isKeyPair(parsed) || !isValidPublicKey(parsed.publicKey)) {
      throw new Error(`${path} is not a valid key file; move it away to create a new key`);
    }
    pair = parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    pair = generateEd25519();
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(pair), { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  }
  return {
    publicKeyRaw: pair.publicKey,
    publicKey: publicKeyObject(pair.publicKey),
    privateKey: privateKeyObject(pair.privateKey),
  };
}
