import { HangarError, type SecretRecipient, type SecretScope } from '@hangar/api';
import type { Queryable } from '../storage/database.js';
import { policyOf } from './policy-store.js';

interface RecipientRow {
  id: string;
  name: string;
  encryption_key: string;
  [key: string]: string | number | null;
}

/** The scope id a secret is stored under: '' for org, the project name, or the user id. */
export async function scopeIdOf(
  db: Queryable,
  target: { orgId: string; userId: string; scope: SecretScope; project: string | undefined },
): Promise<string> {
  if (target.scope !== 'project') {
    if (target.project !== undefined) {
      const message = `is only for scope project; leave it out for scope ${target.scope}`;
      throw new HangarError('invalid_request', `project ${message}`, {
        fields: [{ field: 'project', message }],
      });
    }
    return target.scope === 'org' ? '' : target.userId;
  }
  if (target.project === undefined) {
    const message = 'is required for scope project';
    throw new HangarError('invalid_request', `project ${message}`, {
      fields: [{ field: 'project', message }],
    });
  }
  await projectRunners(db, target.orgId, target.project);
  return target.project;
}

/**
 * The runner names a project is limited to (empty: any runner). A project the organization
 * policy does not define is refused, naming the field.
 */
async function projectRunners(db: Queryable, orgId: string, project: string): Promise<string[]> {
  const projects = (await policyOf(db, orgId)).projects ?? [];
  const rule = projects.find((item) => item.name === project);
  if (!rule) {
    const message =
      `${project} is not a project of the organization policy; an owner or admin adds it ` +
      'with `hangar org policy set`';
    throw new HangarError('invalid_request', `project ${message}`, {
      fields: [{ field: 'project', message }],
    });
  }
  return rule.runners;
}

/**
 * The runners a secret of this scope must be sealed to: the organization's enabled runners that
 * published an encryption key; for a project limited to some runners, only those.
 */
export async function secretRecipients(
  db: Queryable,
  orgId: string,
  scope: { scope: SecretScope; scopeId: string },
): Promise<SecretRecipient[]> {
  const limited = scope.scope === 'project' ? await projectRunners(db, orgId, scope.scopeId) : [];
  const rows = await db.query<RecipientRow>(
    `SELECT id, name, encryption_key FROM runners
     WHERE org_id = ? AND disabled_at IS NULL AND encryption_key IS NOT NULL ORDER BY name, id`,
    [orgId],
  );
  return rows
    .filter((row) => limited.length === 0 || limited.includes(row.name))
    .map((row) => ({ runnerId: row.id, name: row.name, encryptionKey: row.encryption_key }));
}
