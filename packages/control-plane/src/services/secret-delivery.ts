import type { DesiredSecret, SecretDelivery, SecretScope } from '@hangar/api';
import type { Logger } from '../logger.js';
import type { Queryable } from '../storage/database.js';
import { specOf, type EnvironmentRow } from './environment-rows.js';

/** One secret of an organization with this runner's ciphertext and its author's key, if any. */
interface DeliveryRow {
  id: string;
  org_id: string;
  scope: string;
  scope_id: string;
  name: string;
  delivery: string;
  target: string;
  version: number;
  author_id: string;
  envelope: string | null;
  ciphertext_version: number | null;
  verify_key: string | null;
  revoked_at: number | null;
  [key: string]: string | number | null;
}

/** The scope of a secret as stored: `scope_id` is '' for org, the project name, or a user id. */
export interface SecretScopeRef {
  scope: string;
  scope_id: string;
}

/** Whether `environment` receives secrets of this scope (of its own organization). */
export function receives(environment: EnvironmentRow, secret: SecretScopeRef): boolean {
  if (secret.scope === 'org') return true;
  if (secret.scope === 'project') return specOf(environment).project === secret.scope_id;
  return secret.scope === 'user' && environment.owner_id === secret.scope_id;
}

/**
 * The sealed secrets each environment receives: its organization's, its project's (spec.project)
 * and its owner's, each with the ciphertext sealed to the environment's runner and the author's
 * verify key. A secret with no ciphertext for that runner (the runner was added after it was
 * set) or signed with a revoked key is left out and logged by id, never by content.
 */
export async function secretsOfRows(
  db: Queryable,
  rows: readonly EnvironmentRow[],
  logger?: Logger,
): Promise<Map<string, DesiredSecret[]>> {
  const result = new Map<string, DesiredSecret[]>(rows.map((row) => [row.id, []]));
  const pairs = [...new Set(rows.map((row) => `${row.org_id} ${row.runner_id}`))];
  for (const pair of pairs) {
    const [orgId = '', runnerId = ''] = pair.split(' ');
    const secrets = await db.query<DeliveryRow>(
      `SELECT s.id, s.org_id, s.scope, s.scope_id, s.name, s.delivery, s.target, s.version,
         s.author_id, c.envelope, c.version AS ciphertext_version,
         k.public_key AS verify_key, k.revoked_at
       FROM secrets s
       LEFT JOIN secret_ciphertexts c ON c.secret_id = s.id AND c.runner_id = ?
       LEFT JOIN user_signing_keys k ON k.id = s.signing_key_id
       WHERE s.org_id = ? AND s.deleted_at IS NULL ORDER BY s.scope, s.scope_id, s.name`,
      [runnerId, orgId],
    );
    for (const environment of rows) {
      if (environment.org_id !== orgId || environment.runner_id !== runnerId) continue;
      const delivered = result.get(environment.id) ?? [];
      for (const secret of secrets.filter((row) => receives(environment, row))) {
        const desired = toDesiredSecret(secret, runnerId, logger);
        if (desired) delivered.push(desired);
      }
    }
  }
  return result;
}

function toDesiredSecret(
  row: DeliveryRow,
  runnerId: string,
  logger: Logger | undefined,
): DesiredSecret | undefined {
  const skip = (reason: string) => {
    logger?.warn({ secretId: row.id, runnerId }, reason);
    return undefined;
  };
  if (row.envelope === null || Number(row.ciphertext_version) !== Number(row.version)) {
    return skip('secret not delivered: no ciphertext sealed to this runner; set it again');
  }
  if (row.verify_key === null || row.revoked_at !== null) {
    return skip('secret not delivered: its signing key is revoked; set it again');
  }
  return {
    id: row.id,
    name: row.name,
    scope: row.scope as SecretScope,
    scopeId: row.scope_id,
    delivery: row.delivery as SecretDelivery,
    target: row.target,
    version: Number(row.version),
    authorId: row.author_id,
    authorVerifyKey: row.verify_key,
    envelope: row.envelope,
  };
}
