import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HangarError } from '@hangar/api';

const keyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;
const version = 'v1';

/**
 * The control plane's data key: seals what it must keep but never store in clear (an OIDC client
 * secret, a sign-in's PKCE verifier and nonce). AES-256-GCM; the associated data names what a
 * sealed value is for, so a value sealed for one purpose cannot be opened as another.
 */
export interface DataKey {
  seal(plaintext: string, associatedData: string): string;
  /** Throws when the sealed text was changed or was sealed with other associated data. */
  open(sealed: string, associatedData: string): string;
}

export function dataKeyFrom(key: Buffer): DataKey {
  if (key.length !== keyBytes) throw new Error(`a data key is ${keyBytes} bytes`);
  return {
    seal(plaintext, associatedData) {
      const nonce = randomBytes(nonceBytes);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
      return `${version}.${sealed.toString('base64url')}`;
    },
    open(sealed, associatedData) {
      const [prefix, encoded, ...extra] = sealed.split('.');
      const bytes = Buffer.from(encoded ?? '', 'base64url');
      if (prefix !== version || extra.length > 0 || bytes.length < nonceBytes + tagBytes) {
        throw new HangarError('internal', 'a sealed value is malformed');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, nonceBytes));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
      try {
        const body = bytes.subarray(nonceBytes, bytes.length - tagBytes);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new HangarError('internal', 'a sealed value does not open with the data key', {
          cause: error,
        });
      }
    },
  };
}

/**
 * Reads `data.key` from the data directory, or makes it (32 random bytes, mode 0600) on first
 * start. The file is linked into place only if none exists, so two processes starting at once
 * cannot overwrite each other's key. Losing the file makes every sealed value unreadable: the
 * OIDC client secrets must then be set again.
 */
export async function loadOrCreateDataKey(dataDir: string): Promise<DataKey> {
  const path = join(dataDir, 'data.key');
  try {
    return dataKeyFrom(await readKeyFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, randomBytes(keyBytes), { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary);
  }
  return dataKeyFrom(await readKeyFile(path));
}

async function readKeyFile(path: string): Promise<Buffer> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new Error(`${path} is open to group or others; run \`chmod 600 ${path}\``);
  }
  const key = await readFile(path);
  if (key.length !== keyBytes) {
    throw new Error(`${path} is not a ${keyBytes}-byte data key; restore it from a backup`);
  }
  return key;
}
