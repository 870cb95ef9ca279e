import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  EnrollResponse,
  HangarError,
  type Ed25519KeyPair,
  generateEd25519,
  privateKeyObject,
  publicKeyObject,
  validator,
} from '@hangar/api';
import { Type, type Static } from 'typebox';

const IdentitySchema = Type.Object(
  {
    runnerId: Type.String(),
    orgId: Type.String(),
    controlPlaneUrl: Type.String(),
    controlPlanePublicKey: Type.String(),
    publicKey: Type.String(),
    privateKey: Type.String(),
  },
  { additionalProperties: false },
);

type IdentityFile = Static<typeof IdentitySchema>;

export interface RunnerIdentity {
  runnerId: string;
  orgId: string;
  controlPlaneUrl: string;
  controlPlanePublicKey: KeyObject;
  controlPlanePublicKeyRaw: string;
  /** Replaced in place by `rotateIdentityKey`; every later hello signs with the new key. */
  privateKey: KeyObject;
  /** The file this identity was read from; absent for identities made in memory (tests). */
  file?: string;
}

const checkIdentity = validator(IdentitySchema, 'runner identity file');
const checkEnroll = validator(EnrollResponse, 'enrollment response');

function identityPath(dataDir: string): string {
  return join(dataDir, 'runner-identity.json');
}

function toIdentity(file: IdentityFile, path: string): RunnerIdentity {
  return {
    file: path,
    runnerId: file.runnerId,
    orgId: file.orgId,
    controlPlaneUrl: file.controlPlaneUrl,
    controlPlanePublicKey: publicKeyObject(file.controlPlanePublicKey),
    controlPlanePublicKeyRaw: file.controlPlanePublicKey,
    privateKey: privateKeyObject(file.privateKey),
  };
}

export async function loadIdentity(dataDir: string): Promise<RunnerIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(identityPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return toIdentity(checkIdentity(JSON.parse(text)), identityPath(dataDir));
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, path);
}

/**
 * Generates the runner's key pair and registers its public half with a single-use enrollment
 * token. The private key never leaves the data directory (mode 0600).
 */
export async function enroll(options: {
  dataDir: string;
  controlPlaneUrl: string;
  enrollmentToken: string;
}): Promise<RunnerIdentity> {
  const pair = generateEd25519();
  const response = await fetch(new URL('/v1/runners/enroll', options.controlPlaneUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enrollmentToken: options.enrollmentToken, publicKey: pair.publicKey }),
  }).catch((error: unknown) => {
    throw new HangarError(
      'unreachable',
      `cannot reach the control plane at ${options.controlPlaneUrl} to enroll: ${String(error)}`,
    );
  });
  const body = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!response.ok) {
    throw new HangarError(
      'enrollment_token_invalid',
      `enrollment refused (${body.code ?? response.status}): ${body.message ?? 'no reason given'}`,
    );
  }
  const enrolled = checkEnroll(body);
  const file: IdentityFile = {
    runnerId: enrolled.runnerId,
    orgId: enrolled.orgId,
    controlPlaneUrl: options.controlPlaneUrl,
    controlPlanePublicKey: enrolled.controlPlanePublicKey,
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
  };
  await mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  await writeAtomically(identityPath(options.dataDir), JSON.stringify(file));
  return toIdentity(file, identityPath(options.dataDir));
}

/**
 * Makes `pair` the runner's key, after the control plane accepted it: in memory first, so the
 * next hello already signs with it, then in the identity file, replaced atomically (a temporary
 * file of mode 0600 renamed over it), so a crash leaves either the old file or the new one. An
 * identity made in memory (tests) keeps the new key in memory only.
 */
export async function rotateIdentityKey(
  identity: RunnerIdentity,
  pair: Ed25519KeyPair,
): Promise<void> {
  identity.privateKey = privateKeyObject(pair.privateKey);
  if (!identity.file) return;
  const current = checkIdentity(JSON.parse(await readFile(identity.file, 'utf8')));
  const next: IdentityFile = { ...current, publicKey: pair.publicKey, privateKey: pair.privateKey };
  await writeAtomically(identity.file, JSON.stringify(next));
}
