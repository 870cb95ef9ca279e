import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  generateEd25519,
  isValidPublicKey,
  privateKeyObject,
  type Ed25519KeyPair,
  type SigningKey,
} from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { parseJsonFile } from '@hangar/api/json-file.js';
import { hangarHome, type ResolvedCredentials } from './credentials.js';
import type { HttpClient } from './http-client.js';
import type { Io } from './io.js';

const fileName = 'signing-key.json';

/**
 * Where the user's signing key lives: beside the credentials file the token came from, else in
 * `$HANGAR_HOME` (or ./.hangar) when the token came from a flag or HANGAR_TOKEN.
 */
export function signingKeyPath(
  io: Pick<Io, 'env' | 'cwd'>,
  credentials: Pick<ResolvedCredentials, 'tokenSource'>,
): string {
  const fromFile = isAbsolute(credentials.tokenSource);
  return join(fromFile ? dirname(credentials.tokenSource) : hangarHome(io), fileName);
}

function checkKeyFile(value: unknown, path: string): Ed25519KeyPair {
  const record =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const { publicKey, privateKey } = record;
  const valid =
    typeof publicKey === 'string' &&
    typeof privateKey === 'string' &&
    isValidPublicKey(publicKey) &&
    Object.keys(record).length === 2;
  if (!valid) {
    throw new HangarError(
      'invalid_request',
      `the signing key file ${path} is not valid (it needs exactly publicKey and privateKey, ` +
        'raw Ed25519 halves in base64url); move it away and run the command again for a new key',
    );
  }
  return { publicKey, privateKey };
}

async function readKeyFile(path: string): Promise<Ed25519KeyPair | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    throw new HangarError(
      'forbidden',
      `the signing key file ${path} is open to group or others (mode ${shown}); it holds a ` +
        `private key, so it is not used: run \`chmod 600 ${path}\` and try again`,
    );
  }
  const text = await readFile(path, 'utf8');
  const parsed = parseJsonFile(text, `the signing key file ${path}`, 'move it away for a new key');
  return checkKeyFile(parsed, path);
}

/** Writes the key file 0600, atomically; its directory is created 0700 when absent. */
async function writeKeyFile(path: string, keys: Ed25519KeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export interface ActiveSigningKey {
  id: string;
  fingerprint: string;
  privateKey: KeyObject;
  /** True when this call made the key or registered it with the control plane. */
  registered: boolean;
}

/**
 * The user's signing key, registered with the control plane: read from `path`, or made there
 * on first use (mode 0600) and registered. A key the control plane lists as revoked is
 * replaced by a new one, which is registered in its place.
 */
export async function ensureSigningKey(api: HttpClient, path: string): Promise<ActiveSigningKey> {
  let keys = await readKeyFile(path);
  const { signingKeys } = await api.get<{ signingKeys: SigningKey[] }>('/v1/signing-keys');
  let known = keys && signingKeys.find((item) => item.publicKey === keys?.publicKey);
  if (!keys || known?.revokedAt !== undefined) {
    keys = generateEd25519();
    await writeKeyFile(path, keys);
    known = undefined;
  }
  const registered = known === undefined;
  known ??= await api.post<SigningKey>('/v1/signing-keys', { publicKey: keys.publicKey });
  return {
    id: known.id,
    fingerprint: known.fingerprint,
    privateKey: privateKeyObject(keys.privateKey),
    registered,
  };
}
