import { HangarError, fingerprint, isValidPublicKey, newId, type SigningKey } from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { isUniqueViolation } from '../storage/open.js';
import { pushSecretChange } from './secret-push.js';

/** How many signing keys one user may have that are not revoked. */
export const maxSigningKeysPerUser = 20;

export interface SigningKeyRow {
  id: string;
  org_id: string;
  user_id: string;
  public_key: string;
  fingerprint: string;
  created_at: number;
  revoked_at: number | null;
  [key: string]: string | number | null;
}

export function toSigningKey(row: SigningKeyRow): SigningKey {
  const key: SigningKey = {
    id: row.id,
    userId: row.user_id,
    publicKey: row.public_key,
    fingerprint: row.fingerprint,
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.revoked_at !== null) key.revokedAt = new Date(row.revoked_at).toISOString();
  return key;
}

/** The caller's key `id`, whether revoked or not; undefined when it is not the caller's. */
export async function ownSigningKey(
  db: Queryable,
  principal: UserPrincipal,
  id: string,
  lock = '',
): Promise<SigningKeyRow | undefined> {
  const rows = await db.query<SigningKeyRow>(
    `SELECT * FROM user_signing_keys WHERE id = ? AND org_id = ? AND user_id = ? ${lock}`,
    [id, principal.orgId, principal.userId],
  );
  return rows[0];
}

/**
 * Registers an Ed25519 public key the caller signs sealed secrets with. A key already registered
 * in the organization (by anyone, revoked or not) is refused, so a key always names one user and
 * a revoked key never comes back.
 */
export async function addSigningKey(
  context: Context,
  principal: UserPrincipal,
  publicKey: string,
  meta: RequestMeta,
): Promise<SigningKey> {
  if (!isValidPublicKey(publicKey)) {
    const message = 'must be a raw Ed25519 public key: 32 bytes, base64url without padding';
    throw new HangarError('invalid_request', `publicKey ${message}`, {
      fields: [{ field: 'publicKey', message }],
    });
  }
  const row: SigningKeyRow = {
    id: newId('sgk'),
    org_id: principal.orgId,
    user_id: principal.userId,
    public_key: publicKey,
    fingerprint: fingerprint(publicKey),
    created_at: Date.now(),
    revoked_at: null,
  };
  try {
    await context.db.transaction(async (tx) => {
      const counted = await tx.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM user_signing_keys
         WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL`,
        [principal.orgId, principal.userId],
      );
      if (Number(counted[0]?.n ?? 0) >= maxSigningKeysPerUser) {
        throw new HangarError(
          'conflict',
          `you already have ${maxSigningKeysPerUser} signing keys; revoke one with ` +
            '`DELETE /v1/signing-keys/:id` first',
        );
      }
      await tx.execute(
        `INSERT INTO user_signing_keys (id, org_id, user_id, public_key, fingerprint, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [row.id, row.org_id, row.user_id, row.public_key, row.fingerprint, row.created_at],
      );
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'signing-key.add',
        target: { kind: 'signing-key', id: row.id },
        outcome: 'success',
        ...meta,
        details: { fingerprint: row.fingerprint },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HangarError(
        'conflict',
        `the signing key ${row.fingerprint} is already registered in this organization; ` +
          'make a new key',
        { fields: [{ field: 'publicKey', message: 'is already registered' }] },
      );
    }
    throw error;
  }
  return toSigningKey(row);
}

export async function listSigningKeys(
  context: Context,
  principal: UserPrincipal,
): Promise<SigningKey[]> {
  const rows = await context.db.query<SigningKeyRow>(
    `SELECT * FROM user_signing_keys WHERE org_id = ? AND user_id = ?
     ORDER BY created_at, id`,
    [principal.orgId, principal.userId],
  );
  return rows.map(toSigningKey);
}

/**
 * Revokes one of the caller's keys. Secrets it signed stop being delivered (the runners get the
 * desired state without them) until they are set again with another key.
 */
export async function revokeSigningKey(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<SigningKey> {
  const revoked = await context.db.transaction(async (tx) => {
    const row = await ownSigningKey(tx, principal, id, context.db.forUpdate);
    if (!row)
      throw new HangarError('not_found', `signing key ${id} does not exist or is not yours`);
    if (row.revoked_at !== null) return { row, changed: false };
    const now = Date.now();
    await tx.execute('UPDATE user_signing_keys SET revoked_at = ? WHERE id = ?', [now, id]);
    const signed = await tx.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM secrets WHERE signing_key_id = ? AND deleted_at IS NULL',
      [id],
    );
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'signing-key.revoke',
      target: { kind: 'signing-key', id },
      outcome: 'success',
      ...meta,
      details: { fingerprint: row.fingerprint, secretsSigned: Number(signed[0]?.n ?? 0) },
    });
    return { row: { ...row, revoked_at: now }, changed: true };
  });
  if (revoked.changed) {
    const secrets = await context.db.query<{ scope: string; scope_id: string }>(
      'SELECT scope, scope_id FROM secrets WHERE signing_key_id = ? AND deleted_at IS NULL',
      [id],
    );
    await pushSecretChange(context, principal.orgId, secrets);
  }
  return toSigningKey(revoked.row);
}
