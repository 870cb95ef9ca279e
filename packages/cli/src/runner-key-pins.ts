import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fingerprint, type SecretRecipient } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { parseJsonFile } from '@hangar/api/json-file.js';

const fileName = 'runner-keys.json';

/** One runner's encryption key as first sealed to: its fingerprint and name then. */
export interface RunnerKeyPin {
  fingerprint: string;
  name: string;
  pinnedAt: string;
}

export type RunnerKeyPins = Record<string, RunnerKeyPin>;

/** A recipient checked against the pins: its fingerprint and whether it is new or accepted. */
export interface CheckedRecipient {
  recipient: SecretRecipient;
  fingerprint: string;
  state: 'pinned' | 'new' | 'accepted';
}

/** Where the pins live: next to the signing key file, so one user's machine keeps one set. */
export function runnerKeyPinsPath(signingKeyPath: string): string {
  return join(dirname(signingKeyPath), fileName);
}

function invalidFile(path: string): HangarError {
  return new HangarError(
    'invalid_request',
    `the runner key file ${path} is not valid (it maps runner ids to {fingerprint, name, ` +
      'pinnedAt}); fix it, or move it away to pin every runner key again on the next seal',
  );
}

function checkPins(value: unknown, path: string): RunnerKeyPins {
  const record = typeof value === 'object' && value !== null ? value : undefined;
  const runners = (record as { runners?: unknown } | undefined)?.runners;
  if (typeof runners !== 'object' || runners === null || Array.isArray(runners)) {
    throw invalidFile(path);
  }
  for (const pin of Object.values(runners as Record<string, unknown>)) {
    const item = pin as Partial<RunnerKeyPin> | null;
    if (
      typeof item?.fingerprint !== 'string' ||
      typeof item.name !== 'string' ||
      typeof item.pinnedAt !== 'string'
    ) {
      throw invalidFile(path);
    }
  }
  return runners as RunnerKeyPins;
}

/** The pinned runner keys, or none when the file does not exist yet. */
export async function readRunnerKeyPins(path: string): Promise<RunnerKeyPins> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  if (process.platform !== 'win32' && (mode & 0o022) !== 0) {
    const shown = (mode & 0o777).toString(8).padStart(4, '0');
    throw new HangarError(
      'forbidden',
      `the runner key file ${path} is writable by group or others (mode ${shown}), so its pins ` +
        `cannot be trusted: run \`chmod 600 ${path}\`, check its fingerprints, and try again`,
    );
  }
  const text = await readFile(path, 'utf8');
  const parsed = parseJsonFile(text, `the runner key file ${path}`, 'move it away to pin again');
  return checkPins(parsed, path);
}

/** Writes the pins 0600, atomically; the directory is created 0700 when absent. */
export async function writeRunnerKeyPins(path: string, pins: RunnerKeyPins): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ runners: pins }, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

function changedKey(recipient: SecretRecipient, pin: RunnerKeyPin, now: string): HangarError {
  const id = recipient.runnerId;
  return new HangarError(
    'conflict',
    `runner ${recipient.name} (${id}) now has encryption key ${now}, but this machine sealed ` +
      `to ${pin.fingerprint} before (pinned ${pin.pinnedAt}); nothing was sealed. A control ` +
      'plane that swaps a runner key could read what is sealed to it. Compare the new ' +
      'fingerprint with the one the runner printed in its own log when it started ' +
      '("secrets are sealed to this encryption key", encryptionKeyFingerprint), not only with ' +
      '`hangar runner list` (that shows what the control plane says). If they match (the ' +
      `runner was enrolled again or made a new key), run again with --accept-runner-key ${id}`,
    { details: { runnerId: id, pinned: pin.fingerprint, offered: now } },
  );
}

/**
 * Checks each recipient's encryption key against its pin: a runner sealed to for the first time
 * is pinned now (trust on first use), a changed key is refused unless the caller accepts that
 * runner's new key by id. Returns the recipients with their fingerprints and the pins to keep.
 */
export function checkRunnerKeys(
  pins: RunnerKeyPins,
  recipients: readonly SecretRecipient[],
  accepted: readonly string[],
  nowIso: string,
): { checked: CheckedRecipient[]; pins: RunnerKeyPins } {
  const next: RunnerKeyPins = { ...pins };
  const checked = recipients.map((recipient): CheckedRecipient => {
    const shown = fingerprint(recipient.encryptionKey);
    const pin = pins[recipient.runnerId];
    const fresh = { fingerprint: shown, name: recipient.name, pinnedAt: nowIso };
    if (!pin) {
      next[recipient.runnerId] = fresh;
      return { recipient, fingerprint: shown, state: 'new' };
    }
    if (pin.fingerprint === shown) return { recipient, fingerprint: shown, state: 'pinned' };
    if (!accepted.includes(recipient.runnerId)) throw changedKey(recipient, pin, shown);
    next[recipient.runnerId] = fresh;
    return { recipient, fingerprint: shown, state: 'accepted' };
  });
  return { checked, pins: next };
}
