import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HangarError } from '@hangar/api/errors.js';
import { parseJsonFile } from '@hangar/api/json-file.js';
import type { Io } from './io.js';

/** What `hangar up` writes and every other command reads. */
export interface StoredCredentials {
  controlPlaneUrl: string;
  token: string;
  orgId: string;
}

export interface ResolvedCredentials {
  controlPlaneUrl: string;
  token: string;
  orgId?: string;
  /** Where the token came from, in words: `--token`, `HANGAR_TOKEN` or a file path. */
  tokenSource: string;
  urlSource: string;
}

const fileFields = ['controlPlaneUrl', 'token', 'orgId'] as const;

/** Exactly the three fields, each a non-empty string; anything else names the bad field. */
function checkFile(value: unknown, path: string): StoredCredentials {
  const fields: { field: string; message: string }[] = [];
  const record =
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fields.push({ field: '(root)', message: 'must be a JSON object' });
  }
  for (const name of fileFields) {
    const item = record[name];
    if (typeof item !== 'string' || item.length === 0) {
      fields.push({ field: name, message: 'must be a non-empty string' });
    }
  }
  for (const name of Object.keys(record)) {
    if (!(fileFields as readonly string[]).includes(name)) {
      fields.push({ field: name, message: 'is not a known field; remove it' });
    }
  }
  if (fields.length > 0) {
    const summary = fields.map((item) => `${item.field} ${item.message}`).join('; ');
    throw new HangarError(
      'invalid_request',
      `the credentials file ${path} is not valid: ${summary}; run \`hangar up\` to write it again`,
      { fields },
    );
  }
  return record as unknown as StoredCredentials;
}
const missingHint = 'run `hangar up` (it writes one), or set HANGAR_TOKEN and HANGAR_URL';

/** `$HANGAR_HOME`, or `./.hangar` under the working directory. */
export function hangarHome(io: Pick<Io, 'env' | 'cwd'>): string {
  return resolve(io.cwd, io.env.HANGAR_HOME || '.hangar');
}

export function credentialsPathIn(home: string): string {
  return join(home, 'credentials.json');
}

/** The files looked at, in order; the first that exists is used. */
export function credentialSearchPath(io: Pick<Io, 'env' | 'cwd' | 'homeDir'>): string[] {
  const paths: string[] = [];
  if (io.env.HANGAR_CREDENTIALS) paths.push(resolve(io.cwd, io.env.HANGAR_CREDENTIALS));
  if (io.env.HANGAR_HOME) paths.push(credentialsPathIn(resolve(io.cwd, io.env.HANGAR_HOME)));
  paths.push(credentialsPathIn(resolve(io.cwd, '.hangar')));
  const config = io.env.XDG_CONFIG_HOME
    ? resolve(io.cwd, io.env.XDG_CONFIG_HOME)
    : join(io.homeDir, '.config');
  paths.push(join(config, 'hangar', 'credentials.json'));
  return [...new Set(paths)];
}

function checkUrl(url: string, source: string): string {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = '';
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new HangarError(
      'invalid_request',
      `the control plane URL from ${source} must be an http:// or https:// URL, got "${url}"`,
    );
  }
  return url.replace(/\/+$/, '');
}

/**
 * Reads one credentials file. A file that group or others may read or write is refused before
 * its contents are read, with the `chmod` that fixes it.
 */
export async function readCredentialsFile(path: string): Promise<StoredCredentials> {
  const info = await stat(path);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new HangarError(
      'forbidden',
      `the credentials file ${path} is open to group or others (mode ${mode}); it holds an API ` +
        `token, so it is not read: run \`chmod 600 ${path}\` and try again`,
    );
  }
  const text = await readFile(path, 'utf8');
  const parsed = parseJsonFile(
    text,
    `the credentials file ${path}`,
    'run `hangar up` to write it again',
  );
  return checkFile(parsed, path);
}

async function firstCredentialsFile(
  io: Pick<Io, 'env' | 'cwd' | 'homeDir'>,
): Promise<{ path: string; credentials: StoredCredentials } | undefined> {
  const explicit = io.env.HANGAR_CREDENTIALS
    ? resolve(io.cwd, io.env.HANGAR_CREDENTIALS)
    : undefined;
  for (const path of credentialSearchPath(io)) {
    try {
      return { path, credentials: await readCredentialsFile(path) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (path === explicit) {
        throw new HangarError(
          'unauthenticated',
          `HANGAR_CREDENTIALS names ${path}, which does not exist; fix the path, or ${missingHint}`,
        );
      }
    }
  }
  return undefined;
}

/**
 * Finds the control plane URL and API token. Each is taken from the first place that has it:
 * the `--token`/`--url` flags, `HANGAR_TOKEN`/`HANGAR_URL`, then the first credentials file of
 * `credentialSearchPath`. Files are only read when a flag or variable leaves something missing.
 */
export async function resolveCredentials(
  io: Pick<Io, 'env' | 'cwd' | 'homeDir'>,
  flags: { token?: string | undefined; url?: string | undefined },
): Promise<ResolvedCredentials> {
  let token = flags.token ? { value: flags.token, source: '--token' } : undefined;
  token ??= io.env.HANGAR_TOKEN
    ? { value: io.env.HANGAR_TOKEN, source: 'HANGAR_TOKEN' }
    : undefined;
  let url = flags.url ? { value: flags.url, source: '--url' } : undefined;
  url ??= io.env.HANGAR_URL ? { value: io.env.HANGAR_URL, source: 'HANGAR_URL' } : undefined;
  let orgId: string | undefined;
  if (!token || !url) {
    const file = await firstCredentialsFile(io);
    if (file) {
      token ??= { value: file.credentials.token, source: file.path };
      url ??= { value: file.credentials.controlPlaneUrl, source: file.path };
      orgId = file.credentials.orgId;
    }
  }
  if (!token) {
    throw new HangarError(
      'unauthenticated',
      `no API token: ${missingHint}; looked in ${credentialSearchPath(io).join(', ')}`,
    );
  }
  if (!url) {
    throw new HangarError(
      'unauthenticated',
      `no control plane URL: pass --url or set HANGAR_URL (the token came from ${token.source})`,
    );
  }
  return {
    controlPlaneUrl: checkUrl(url.value, url.source),
    token: token.value,
    ...(orgId ? { orgId } : {}),
    tokenSource: token.source,
    urlSource: url.source,
  };
}

/**
 * Writes the credentials file with mode 0600, atomically: a reader sees the old file or the new
 * one, never a part. The directory is created 0700 when absent.
 */
export async function writeCredentialsFile(
  path: string,
  credentials: StoredCredentials,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
