import type { SecretRecipient } from '../org-types.js';
import { fingerprintOf } from './fingerprint.js';
import type { KeyStore } from './key-store.js';

/** One runner's encryption key as first sealed to from this browser. */
export interface RunnerKeyPin {
  fingerprint: string;
  name: string;
  pinnedAt: string;
}

export type RunnerKeyPins = Record<string, RunnerKeyPin>;

/** A recipient checked against the pins: its fingerprint, and whether it is new or accepted. */
export interface CheckedRecipient {
  runnerId: string;
  name: string;
  fingerprint: string;
  state: 'pinned' | 'new' | 'accepted';
}

/** A runner whose key is not the one pinned: nothing is sealed until the user accepts it. */
export interface ChangedRunnerKey {
  runnerId: string;
  name: string;
  pinned: RunnerKeyPin;
  offered: string;
}

export type PinCheck =
  | { ok: true; checked: CheckedRecipient[]; pins: RunnerKeyPins }
  | { ok: false; changed: ChangedRunnerKey[] };

/** The pins of one user of one organization, kept beside their signing key. */
export function runnerPinsName(user: { orgId: string; userId: string }): string {
  return `runner-keys:${user.orgId}:${user.userId}`;
}

export async function readRunnerPins(store: KeyStore, name: string): Promise<RunnerKeyPins> {
  return (await store.get<RunnerKeyPins>(name)) ?? {};
}

/**
 * Checks each recipient's encryption key against its pin, as `hangar secret set` does: a runner
 * sealed to for the first time is pinned now (trust on first use); a changed key is refused
 * unless the user accepted that runner's new key by id. A control plane that swapped a runner's
 * key could read what is sealed to it, so every changed key is reported, none sealed to.
 */
export async function checkRunnerKeys(
  pins: RunnerKeyPins,
  recipients: readonly SecretRecipient[],
  accepted: readonly string[],
  nowIso: string,
): Promise<PinCheck> {
  const next: RunnerKeyPins = { ...pins };
  const checked: CheckedRecipient[] = [];
  const changed: ChangedRunnerKey[] = [];
  for (const { runnerId, name, encryptionKey } of recipients) {
    const fingerprint = await fingerprintOf(encryptionKey);
    const pin = pins[runnerId];
    const fresh = { fingerprint, name, pinnedAt: nowIso };
    if (!pin) {
      next[runnerId] = fresh;
      checked.push({ runnerId, name, fingerprint, state: 'new' });
    } else if (pin.fingerprint === fingerprint) {
      checked.push({ runnerId, name, fingerprint, state: 'pinned' });
    } else if (accepted.includes(runnerId)) {
      next[runnerId] = fresh;
      checked.push({ runnerId, name, fingerprint, state: 'accepted' });
    } else {
      changed.push({ runnerId, name, pinned: pin, offered: fingerprint });
    }
  }
  return changed.length > 0 ? { ok: false, changed } : { ok: true, checked, pins: next };
}
