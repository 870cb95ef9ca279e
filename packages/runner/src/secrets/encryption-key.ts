import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateX25519,
  isValidX25519PublicKey,
  validator,
  x25519PrivateKeyObject,
  type X25519KeyPair,
} from '@hangar/api';
import { Type } from 'typebox';

const EncryptionKeyFile = Type.Object(
  { publicKey: Type.String(), privateKey: Type.String() },
  { additionalProperties: false },
);

const checkKeyFile = validator(EncryptionKeyFile, 'runner encryption key file');

export function encryptionKeyPath(dataDir: string): string {
  return join(dataDir, 'runner-encryption-key.json');
}

function checkPair(pair: X25519KeyPair, path: string): X25519KeyPair {
  try {
    x25519PrivateKeyObject(pair.privateKey);
    if (isValidX25519PublicKey(pair.publicKey)) return pair;
  } catch {
    // Falls through to the error below, which names the file.
  }
  throw new Error(
    `${path} does not hold an X25519 key pair; move it away and restart the runner to make a ` +
      'new one (secrets sealed to the old key must then be set again)',
  );
}

/**
 * The X25519 key pair secrets are sealed to: read from `runner-encryption-key.json` in the data
 * directory, or made on first start and written there (mode 0600, atomically). It is separate
 * from the identity key, so rotating that one leaves every sealed secret readable.
 */
export async function loadEncryptionKey(dataDir: string): Promise<X25519KeyPair> {
  const path = encryptionKeyPath(dataDir);
  try {
    return checkPair(checkKeyFile(JSON.parse(await readFile(path, 'utf8'))), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pair = generateX25519();
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(pair), { mode: 0o600 });
  await rename(temporary, path);
  return pair;
}
