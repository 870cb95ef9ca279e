import {
  checkSecretTarget,
  HangarError,
  newId,
  publicKeyObject,
  verifySealedSecret,
  type Secret,
  type SecretBinding,
  type SecretDelivery,
  type SecretRecipient,
  type SecretScope,
  type SetSecretBody,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, isAdmin, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { isUniqueViolation } from '../storage/open.js';
import { pushSecretChange } from './secret-push.js';
import { scopeIdOf, secretRecipients } from './secret-recipients.js';
import { ownSigningKey } from './signing-keys.js';

export interface SecretRow {
  id: string;
  org_id: string;
  scope: string;
  scope_id: string;
  name: string;
  delivery: string;
  target: string;
  version: number;
  author_id: string;
  signing_key_id: string;
  created_at: number;
  updated_at: number;
  /** Set when the secret was deleted: a tombstone that keeps its name's highest version. */
  deleted_at: number | null;
  [key: string]: string | number | null;
}

function toSecret(row: SecretRow, runnerIds: string[]): Secret {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    scope: row.scope as SecretScope,
    scopeId: row.scope_id,
    delivery: row.delivery as SecretDelivery,
    target: row.target,
    version: Number(row.version),
    authorId: row.author_id,
    runnerIds,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function fieldError(field: string, message: string, code: 'invalid_request' | 'conflict') {
  return new HangarError(code, `${field} ${message}`, { fields: [{ field, message }] });
}

/** Org and project secrets are an owner's or admin's; a user secret is its user's. */
function checkMayWrite(principal: UserPrincipal, scope: SecretScope): void {
  if (scope === 'user' || isAdmin(principal)) return;
  throw new HangarError(
    'forbidden',
    `only an owner or admin may change ${scope} secrets; set a user secret with --user instead`,
  );
}

/** Whether the caller may see this secret at all: org and project ones, and their own. */
function mayRead(principal: UserPrincipal, row: SecretRow): boolean {
  return (
    row.org_id === principal.orgId && (row.scope !== 'user' || row.scope_id === principal.userId)
  );
}

/** The recipients for a new secret of this scope, as the caller would set it. */
export async function recipientsFor(
  context: Context,
  principal: UserPrincipal,
  query: { scope: SecretScope; project?: string | undefined },
): Promise<SecretRecipient[]> {
  const scopeId = await scopeIdOf(context.db, {
    orgId: principal.orgId,
    userId: principal.userId,
    scope: query.scope,
    project: query.project,
  });
  return secretRecipients(context.db, principal.orgId, { scope: query.scope, scopeId });
}

/**
 * The ciphertexts must be for exactly the recipients, once each, and each must carry the
 * author's signature over the binding the runner will rebuild. The envelopes are never opened:
 * the control plane holds no runner key.
 */
function checkCiphertexts(
  body: SetSecretBody,
  recipients: readonly SecretRecipient[],
  binding: Omit<SecretBinding, 'runnerId'>,
  verifyKey: string,
): void {
  const wanted = new Set(recipients.map((item) => item.runnerId));
  const seen = new Set<string>();
  body.ciphertexts.forEach((item, index) => {
    if (seen.has(item.runnerId)) {
      throw fieldError(
        'ciphertexts',
        `holds runner ${item.runnerId} twice; seal once per runner`,
        'invalid_request',
      );
    }
    seen.add(item.runnerId);
    if (!wanted.has(item.runnerId)) {
      throw fieldError(
        'ciphertexts',
        `runner ${item.runnerId} is not a recipient of this secret; fetch the recipients ` +
          'again (GET /v1/secrets/recipients) and seal to those',
        'invalid_request',
      );
    }
    const signed = verifySealedSecret({
      envelope: item.envelope,
      binding: { ...binding, runnerId: item.runnerId },
      authorVerifyKey: publicKeyObject(verifyKey),
    });
    if (!signed) {
      throw fieldError(
        `ciphertexts/${index}/envelope`,
        `is not signed by signing key for this secret's name, scope, version, delivery, ` +
          'target and runner; seal it again with your signing key',
        'invalid_request',
      );
    }
  });
  const missing = recipients.filter((item) => !seen.has(item.runnerId));
  if (missing.length > 0) {
    const names = missing.map((item) => `${item.name} (${item.runnerId})`).join(', ');
    throw fieldError(
      'ciphertexts',
      `lacks a ciphertext for runner ${names}; fetch the recipients again and seal to each`,
      'invalid_request',
    );
  }
}

async function storedSecret(
  tx: Queryable,
  lock: string,
  key: { orgId: string; scope: string; scopeId: string; name: string },
): Promise<SecretRow | undefined> {
  const rows = await tx.query<SecretRow>(
    `SELECT * FROM secrets WHERE org_id = ? AND scope = ? AND scope_id = ? AND name = ? ${lock}`,
    [key.orgId, key.scope, key.scopeId, key.name],
  );
  return rows[0];
}

async function writeSecret(
  tx: Queryable,
  existing: SecretRow | undefined,
  row: SecretRow,
  body: SetSecretBody,
): Promise<void> {
  if (existing) {
    // A tombstone set again becomes a new secret (new id) that continues its version count.
    await tx.execute(
      `UPDATE secrets SET id = ?, delivery = ?, target = ?, version = ?, author_id = ?,
         signing_key_id = ?, created_at = ?, updated_at = ?, deleted_at = NULL WHERE id = ?`,
      [
        row.id,
        row.delivery,
        row.target,
        row.version,
        row.author_id,
        row.signing_key_id,
        row.created_at,
        row.updated_at,
        existing.id,
      ],
    );
    await tx.execute('DELETE FROM secret_ciphertexts WHERE secret_id = ?', [row.id]);
  } else {
    await tx.execute(
      `INSERT INTO secrets (id, org_id, scope, scope_id, name, delivery, target, version,
         author_id, signing_key_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.org_id,
        row.scope,
        row.scope_id,
        row.name,
        row.delivery,
        row.target,
        row.version,
        row.author_id,
        row.signing_key_id,
        row.created_at,
        row.updated_at,
      ],
    );
  }
  for (const item of body.ciphertexts) {
    await tx.execute(
      `INSERT INTO secret_ciphertexts (secret_id, runner_id, version, envelope)
       VALUES (?, ?, ?, ?)`,
      [row.id, item.runnerId, row.version, item.envelope],
    );
  }
}

/**
 * Creates a secret or replaces its value with a new version. The body carries one ciphertext
 * per recipient runner, each signed by the caller's signing key over its binding; metadata and
 * ciphertexts are stored (the old version's ciphertexts dropped), the change audited without
 * value or envelope, and the desired state pushed to the runners of the environments that
 * receive it.
 */
export async function setSecret(
  context: Context,
  principal: UserPrincipal,
  body: SetSecretBody,
  meta: RequestMeta,
): Promise<Secret> {
  checkMayWrite(principal, body.scope);
  checkSecretTarget(body);
  const scopeId = await scopeIdOf(context.db, {
    orgId: principal.orgId,
    userId: principal.userId,
    scope: body.scope,
    project: body.project,
  });
  let saved: SecretRow;
  try {
    saved = await context.db.transaction(async (tx) => {
      const key = { orgId: principal.orgId, scope: body.scope, scopeId, name: body.name };
      const existing = await storedSecret(tx, context.db.forUpdate, key);
      const expected = existing ? Number(existing.version) + 1 : 1;
      if (body.version !== expected) throw versionConflict(body.name, expected, existing);
      const signingKey = await ownSigningKey(tx, principal, body.signingKeyId);
      if (!signingKey || signingKey.revoked_at !== null) {
        throw fieldError(
          'signingKeyId',
          'is not a signing key of yours that is in force; register one (POST /v1/signing-keys)',
          'invalid_request',
        );
      }
      const recipients = await secretRecipients(tx, principal.orgId, {
        scope: body.scope,
        scopeId,
      });
      const binding = {
        orgId: principal.orgId,
        scope: body.scope,
        scopeId,
        name: body.name,
        version: body.version,
        delivery: body.delivery,
        target: body.target,
        authorId: principal.userId,
      };
      checkCiphertexts(body, recipients, binding, signingKey.public_key);
      const now = Date.now();
      const live = existing && !isDeleted(existing) ? existing : undefined;
      const row: SecretRow = {
        id: live?.id ?? newId('sec'),
        org_id: principal.orgId,
        scope: body.scope,
        scope_id: scopeId,
        name: body.name,
        delivery: body.delivery,
        target: body.target,
        version: body.version,
        author_id: principal.userId,
        signing_key_id: signingKey.id,
        created_at: live?.created_at ?? now,
        updated_at: now,
        deleted_at: null,
      };
      await writeSecret(tx, existing, row, body);
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'secret.set',
        target: { kind: 'secret', id: row.id },
        outcome: 'success',
        ...meta,
        details: {
          name: row.name,
          scope: row.scope,
          scopeId,
          version: row.version,
          delivery: row.delivery,
          target: row.target,
          runnerCount: body.ciphertexts.length,
          signingKey: signingKey.fingerprint,
        },
      });
      return row;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw versionConflict(body.name, undefined, undefined);
    if (isForgery(error)) await auditForgery(context, principal, { ...body, scopeId }, meta);
    throw error;
  }
  await pushSecretChange(context, principal.orgId, [saved]);
  return toSecret(saved, body.ciphertexts.map((item) => item.runnerId).sort());
}

const forgedField = /^ciphertexts\/[0-9]+\/envelope$/;

function isForgery(error: unknown): boolean {
  return error instanceof HangarError && forgedField.test(error.fields?.[0]?.field ?? '');
}

/** A ciphertext not signed by the caller's key is refused and leaves a denied record. */
async function auditForgery(
  context: Context,
  principal: UserPrincipal,
  secret: SetSecretBody & { scopeId: string },
  meta: RequestMeta,
): Promise<void> {
  await context.audit
    .record({
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'secret.set',
      target: null,
      outcome: 'denied',
      ...meta,
      details: {
        name: secret.name,
        scope: secret.scope,
        scopeId: secret.scopeId,
        version: secret.version,
        reason: 'a ciphertext is not signed by the signing key named',
      },
    })
    .catch(() => undefined);
}

function isDeleted(row: SecretRow): boolean {
  return row.deleted_at !== null;
}

/** A version that is not the next one; `details.nextVersion` says which is, when known. */
function versionConflict(
  name: string,
  expected: number | undefined,
  existing: SecretRow | undefined,
) {
  let stored = 'it does not exist yet';
  if (existing) {
    stored = isDeleted(existing)
      ? `it was deleted at version ${existing.version}, and a secret set again under its name ` +
        'continues from there'
      : `it is at version ${existing.version}`;
  }
  const next = expected === undefined ? 'read it again' : `seal version ${expected}`;
  const message = `does not follow the stored version of ${name} (${stored}); ${next} and retry`;
  return new HangarError('conflict', `version ${message}`, {
    fields: [{ field: 'version', message }],
    ...(expected === undefined ? {} : { details: { nextVersion: expected } }),
  });
}

async function runnerIdsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const rows = await db.query<{ secret_id: string; runner_id: string }>(
    `SELECT secret_id, runner_id FROM secret_ciphertexts
     WHERE secret_id IN (${ids.map(() => '?').join(', ')}) ORDER BY runner_id`,
    ids,
  );
  for (const row of rows) result.get(row.secret_id)?.push(row.runner_id);
  return result;
}

/** The secrets the caller may see: the organization's, its projects', and the caller's own. */
export async function listSecrets(context: Context, principal: UserPrincipal): Promise<Secret[]> {
  const rows = await context.db.query<SecretRow>(
    `SELECT * FROM secrets
     WHERE org_id = ? AND (scope <> 'user' OR scope_id = ?) AND deleted_at IS NULL
     ORDER BY scope, scope_id, name`,
    [principal.orgId, principal.userId],
  );
  const runners = await runnerIdsOf(
    context.db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toSecret(row, runners.get(row.id) ?? []));
}

/** Deletes a secret under the rules of setting one; what the caller may not see is not found. */
export async function deleteSecret(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<Secret> {
  const deleted = await context.db.transaction(async (tx) => {
    const rows = await tx.query<SecretRow>(
      `SELECT * FROM secrets WHERE id = ? AND deleted_at IS NULL ${context.db.forUpdate}`,
      [id],
    );
    const row = rows[0];
    if (!row || !mayRead(principal, row)) {
      throw new HangarError('not_found', `secret ${id} does not exist or is not yours`);
    }
    checkMayWrite(principal, row.scope as SecretScope);
    const runners = await runnerIdsOf(tx, [id]);
    await tx.execute('DELETE FROM secret_ciphertexts WHERE secret_id = ?', [id]);
    const now = Date.now();
    await tx.execute('UPDATE secrets SET deleted_at = ?, updated_at = ? WHERE id = ?', [
      now,
      now,
      id,
    ]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'secret.delete',
      target: { kind: 'secret', id },
      outcome: 'success',
      ...meta,
      details: { name: row.name, scope: row.scope, scopeId: row.scope_id, version: row.version },
    });
    return toSecret(row, runners.get(id) ?? []);
  });
  await pushSecretChange(context, principal.orgId, [
    { scope: deleted.scope, scope_id: deleted.scopeId },
  ]);
  return deleted;
}
