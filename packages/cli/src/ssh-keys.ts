import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { SshKey } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import type { HttpClient } from './http-client.js';

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The public key line to register, from a file or `-` (stdin). A private key is refused here,
 * before anything is sent: it never leaves this machine.
 */
export async function readPublicKey(
  source: string,
  io: { cwd: string; stdin: Readable },
): Promise<string> {
  let text: string;
  if (source === '-') {
    text = await readAll(io.stdin);
  } else {
    const path = resolve(io.cwd, source);
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new HangarError(
        'not_found',
        missing
          ? `${path} does not exist; give the .pub file of your key (ssh-keygen -t ed25519 makes one)`
          : `cannot read ${path}: ${(error as Error).message}`,
      );
    }
  }
  if (text.includes('PRIVATE KEY')) {
    throw new HangarError(
      'invalid_request',
      `${source === '-' ? 'stdin' : source} holds a private key, which is never sent; ` +
        `pass the public key instead${source === '-' ? '' : ` (${source}.pub)`}`,
    );
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  if (lines.length !== 1) {
    throw new HangarError(
      'invalid_request',
      `${source === '-' ? 'stdin' : source} holds ${lines.length} key lines; pass exactly one`,
    );
  }
  return lines[0] ?? '';
}

/** A key of yours by id (`key_…`) or by its SHA256 fingerprint. */
export async function resolveSshKey(api: HttpClient, reference: string): Promise<SshKey> {
  const { sshKeys } = await api.get<{ sshKeys: SshKey[] }>('/v1/ssh-keys');
  const found = sshKeys.find((key) => key.id === reference || key.fingerprint === reference);
  if (!found) {
    throw new HangarError(
      'not_found',
      `no SSH key of yours is ${reference}; \`hangar ssh-key list\` shows them`,
    );
  }
  return found;
}
