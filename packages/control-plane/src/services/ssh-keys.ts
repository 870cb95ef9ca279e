import { HangarError, newId, type AddSshKeyBody, type SshKey } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import { parseSshPublicKeyLine } from '../ssh/key-format.js';
import { isUniqueViolation } from '../storage/open.js';

/** How many keys one user may register. */
export const maxSshKeysPerUser = 50;

export interface SshKeyRow {
  id: string;
  org_id: string;
  user_id: string;
  name: string | null;
  key_type: string;
  bits: number;
  public_key: string;
  fingerprint: string;
  created_at: number;
  [key: string]: string | number | null;
}

export function toSshKey(row: SshKeyRow): SshKey {
  const key: SshKey = {
    id: row.id,
    userId: row.user_id,
    keyType: row.key_type,
    bits: row.bits,
    fingerprint: row.fingerprint,
    publicKey: `${row.key_type} ${row.public_key}`,
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.name !== null) key.name = row.name;
  return key;
}

function checkName(name: string | undefined): void {
  if (name === undefined || !/[\u0000-\u001f\u007f]/.test(name)) return;
  const message = 'must not hold control characters such as newlines or tabs';
  throw new HangarError('invalid_request', `name ${message}`, {
    fields: [{ field: 'name', message }],
  });
}

/**
 * Registers a public key for the caller: parsed and checked (type, size, key material), stored
 * as its blob and SHA256 fingerprint, the comment dropped. A key already registered in the
 * organization is refused, so that a key always names one user.
 */
export async function addSshKey(
  context: Context,
  principal: UserPrincipal,
  body: AddSshKeyBody,
  meta: RequestMeta,
): Promise<SshKey> {
  const key = parseSshPublicKeyLine(body.publicKey, 'publicKey');
  checkName(body.name);
  const id = newId('key');
  const now = Date.now();
  try {
    await context.db.transaction(async (tx) => {
      const counted = await tx.query<{ n: number }>(
        'SELECT COUNT(*) AS n FROM ssh_keys WHERE user_id = ?',
        [principal.userId],
      );
      if (Number(counted[0]?.n ?? 0) >= maxSshKeysPerUser) {
        throw new HangarError(
          'conflict',
          `you already have ${maxSshKeysPerUser} SSH keys; remove one with ` +
            '`hangar ssh-key remove` first',
        );
      }
      await tx.execute(
        `INSERT INTO ssh_keys (id, org_id, user_id, name, key_type, bits, public_key, fingerprint,
           created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          principal.orgId,
          principal.userId,
          body.name ?? null,
          key.keyType,
          key.bits,
          key.blob,
          key.fingerprint,
          now,
        ],
      );
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'ssh-key.add',
        target: { kind: 'ssh-key', id },
        outcome: 'success',
        ...meta,
        details: { fingerprint: key.fingerprint, keyType: key.keyType, bits: key.bits },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HangarError(
        'conflict',
        `the key ${key.fingerprint} is already registered in this organization`,
        { fields: [{ field: 'publicKey', message: 'is already registered' }] },
      );
    }
    throw error;
  }
  return toSshKey({
    id,
    org_id: principal.orgId,
    user_id: principal.userId,
    name: body.name ?? null,
    key_type: key.keyType,
    bits: key.bits,
    public_key: key.blob,
    fingerprint: key.fingerprint,
    created_at: now,
  });
}

/** The caller's keys; an admin may ask for another member's. */
export async function listSshKeys(
  context: Context,
  principal: UserPrincipal,
  userId: string | undefined,
): Promise<SshKey[]> {
  const owner = userId ?? principal.userId;
  if (owner !== principal.userId && !isAdmin(principal)) {
    throw new HangarError('forbidden', "only an owner or admin may list another member's keys");
  }
  const rows = await context.db.query<SshKeyRow>(
    'SELECT * FROM ssh_keys WHERE org_id = ? AND user_id = ? ORDER BY created_at, id',
    [principal.orgId, owner],
  );
  return rows.map(toSshKey);
}

/**
 * Removes a key: the caller's own, or any member's for an admin. Every runner that holds an
 * environment of the key's owner is told to end that user's live sessions, since one of them
 * may rest on the key.
 */
export async function removeSshKey(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<SshKey> {
  const removed = await context.db.transaction(async (tx) => {
    const rows = await tx.query<SshKeyRow>(
      `SELECT * FROM ssh_keys WHERE id = ? AND org_id = ? ${context.db.forUpdate}`,
      [id, principal.orgId],
    );
    const row = rows[0];
    if (!row || (row.user_id !== principal.userId && !isAdmin(principal))) {
      throw new HangarError('not_found', `SSH key ${id} does not exist or is not yours`);
    }
    await tx.execute('DELETE FROM ssh_keys WHERE id = ?', [id]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'ssh-key.remove',
      target: { kind: 'ssh-key', id },
      outcome: 'success',
      ...meta,
      details: { fingerprint: row.fingerprint, keyOwner: row.user_id },
    });
    return row;
  });
  const runners = await context.db.query<{ runner_id: string }>(
    `SELECT DISTINCT runner_id FROM environments
     WHERE org_id = ? AND owner_id = ? AND phase <> 'deleted'`,
    [principal.orgId, removed.user_id],
  );
  for (const { runner_id: runnerId } of runners) {
    context.runners.revoke(runnerId, {
      actorId: removed.user_id,
      reason: `the SSH key ${removed.fingerprint} was removed`,
    });
  }
  return toSshKey(removed);
}
