import {
  HangarError,
  newId,
  type AddMemberBody,
  type Member,
  type MemberProfile,
  type MemberRole,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, roles, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { externalKeyOf } from '../oidc/users.js';
import { isUniqueViolation } from '../storage/open.js';
import { stopAgentTask } from './agent-tasks.js';
import { revokeAllTokensOf } from './api-tokens.js';
import { pushDesired } from './desired-state.js';
import { specOf, type EnvironmentRow } from './environment-rows.js';
import { removeSshKey } from './ssh-keys.js';

export interface UserRow {
  id: string;
  org_id: string;
  external_key: string;
  role: string;
  created_at: number;
  profile: string | null;
  removed_at: number | null;
  [key: string]: string | number | null;
}

/** The start of the keys of an organization's users, which `toMember` leaves out. */
function orgKeyPrefix(orgId: string): string {
  return `oidc:${orgId}:`;
}

function roleOf(text: string): MemberRole {
  return (roles as readonly string[]).includes(text) ? (text as MemberRole) : 'member';
}

/** The stored profile's name and e-mail; anything else in it, or a corrupt one, is left out. */
function profileOf(text: string | null): MemberProfile | undefined {
  if (text === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { name, email } = parsed as Record<string, unknown>;
  const profile: MemberProfile = {};
  if (typeof name === 'string') profile.name = name;
  if (typeof email === 'string') profile.email = email;
  return profile;
}

export function toMember(row: UserRow): Member {
  const member: Member = {
    id: row.id,
    role: roleOf(row.role),
    // The organization is implied: the key shows as `oidc:<issuer>#<subject>`.
    externalKey: row.external_key.startsWith(orgKeyPrefix(row.org_id))
      ? `oidc:${row.external_key.slice(orgKeyPrefix(row.org_id).length)}`
      : row.external_key,
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.removed_at !== null) member.removedAt = new Date(row.removed_at).toISOString();
  const profile = profileOf(row.profile);
  if (profile) member.profile = profile;
  return member;
}

function invalid(field: string, message: string): HangarError {
  return new HangarError('invalid_request', `${field} ${message}`, {
    fields: [{ field, message }],
  });
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An issuer is an https URL (http only on loopback) without query or fragment, as OIDC says. */
function checkIssuer(issuer: string): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalid('issuer', 'must be a URL such as https://accounts.example.com');
  }
  const loopbackHttp = url.protocol === 'http:' && loopbackHosts.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw invalid('issuer', 'must be an https URL (http only on a loopback address)');
  }
  if (url.search !== '' || url.hash !== '' || issuer.includes('#')) {
    throw invalid('issuer', 'must have no query or fragment, as the provider names itself');
  }
}

function checkSubject(subject: string): void {
  if (/[\u0000-\u001f\u007f]/.test(subject)) {
    throw invalid('subject', 'must not hold control characters; copy the sub claim exactly');
  }
}

/** Making, unmaking or removing an owner is for owners only. */
function checkOwnerChange(principal: UserPrincipal, touched: readonly string[]): void {
  if (touched.includes('owner') && principal.role !== 'owner') {
    throw new HangarError(
      'forbidden',
      'only an owner may make someone an owner, or change or remove an owner; ask an owner',
      { fields: [{ field: 'role', message: 'owner changes need an owner' }] },
    );
  }
}

async function memberFor(
  tx: Queryable,
  principal: UserPrincipal,
  id: string,
  lock: string,
): Promise<UserRow> {
  const rows = await tx.query<UserRow>(`SELECT * FROM users WHERE id = ? AND org_id = ? ${lock}`, [
    id,
    principal.orgId,
  ]);
  const row = rows[0];
  if (!row) throw new HangarError('not_found', `member ${id} does not exist in your organization`);
  return row;
}

function checkActive(row: UserRow, what: string): void {
  if (row.removed_at === null) return;
  throw new HangarError(
    'conflict',
    `member ${row.id} was removed at ${new Date(row.removed_at).toISOString()}, so cannot ${what}; ` +
      'add them again with POST /v1/members (`hangar member add`)',
  );
}

/**
 * Refuses to take away the last owner. The owners' rows are locked, so two admins demoting the
 * last two owners at once cannot both succeed.
 */
async function checkNotLastOwner(tx: Queryable, lock: string, row: UserRow, what: string) {
  if (row.role !== 'owner') return;
  const owners = await tx.query<{ id: string }>(
    `SELECT id FROM users WHERE org_id = ? AND role = 'owner' AND removed_at IS NULL ${lock}`,
    [row.org_id],
  );
  if (owners.length <= 1) {
    throw new HangarError(
      'conflict',
      `member ${row.id} is the last owner of the organization and cannot be ${what}; ` +
        'make another member an owner first',
    );
  }
}

function checkNotSelf(principal: UserPrincipal, id: string, what: string): void {
  if (id !== principal.userId) return;
  throw new HangarError(
    'forbidden',
    `you cannot ${what} yourself; ask another owner or admin to do it`,
  );
}

export async function listMembers(context: Context, principal: UserPrincipal): Promise<Member[]> {
  const rows = await context.db.query<UserRow>(
    'SELECT * FROM users WHERE org_id = ? ORDER BY created_at, id',
    [principal.orgId],
  );
  return rows.map(toMember);
}

/**
 * Pre-creates a member keyed by their OpenID Connect issuer and subject, so that their first
 * sign-in finds them with this role. A removed member of this organization is added again: the
 * same user id, a new role, and none of the old tokens (those stay revoked).
 */
/**
 * Once the organization has an OpenID provider, a member of another issuer could never sign in:
 * the role given to them would silently never apply. Before one is configured any issuer goes.
 */
async function checkConfiguredIssuer(db: Queryable, orgId: string, issuer: string) {
  const rows = await db.query<{ issuer: string }>(
    'SELECT issuer FROM oidc_configs WHERE org_id = ?',
    [orgId],
  );
  const configured = rows[0]?.issuer;
  if (configured === undefined || configured === issuer) return;
  throw new HangarError(
    'invalid_request',
    `the organization signs in with the issuer ${configured}, so a member of ${issuer} could ` +
      'never sign in; give the issuer exactly as `hangar org oidc get` shows it',
    { fields: [{ field: 'issuer', message: `must be ${configured}` }] },
  );
}

export async function addMember(
  context: Context,
  principal: UserPrincipal,
  body: AddMemberBody,
  meta: RequestMeta,
): Promise<{ member: Member; created: boolean }> {
  checkIssuer(body.issuer);
  checkSubject(body.subject);
  checkOwnerChange(principal, [body.role]);
  await checkConfiguredIssuer(context.db, principal.orgId, body.issuer);
  const key = externalKeyOf(principal.orgId, body.issuer, body.subject);
  const taken = new HangarError(
    'conflict',
    `${body.subject} at ${body.issuer} is already a member of your organization; ` +
      '`hangar member list` shows them',
    { fields: [{ field: 'subject', message: 'is already a member' }] },
  );
  try {
    return await context.db.transaction(async (tx) => {
      const existing = await tx.query<UserRow>(
        `SELECT * FROM users WHERE external_key = ? AND org_id = ? ${context.db.forUpdate}`,
        [key, principal.orgId],
      );
      const found = existing[0];
      if (found && found.removed_at === null) throw taken;
      const now = Date.now();
      const row: UserRow = found
        ? { ...found, role: body.role, removed_at: null }
        : {
            id: newId('usr'),
            org_id: principal.orgId,
            external_key: key,
            role: body.role,
            created_at: now,
            profile: null,
            removed_at: null,
          };
      if (found) {
        await tx.execute('UPDATE users SET role = ?, removed_at = NULL WHERE id = ?', [
          body.role,
          row.id,
        ]);
      } else {
        await tx.execute(
          'INSERT INTO users (id, org_id, external_key, role, created_at) VALUES (?, ?, ?, ?, ?)',
          [row.id, row.org_id, key, body.role, now],
        );
      }
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'member.add',
        target: { kind: 'user', id: row.id },
        outcome: 'success',
        ...meta,
        details: { role: body.role, externalKey: key, readded: found !== undefined },
      });
      return { member: toMember(row), created: found === undefined };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw taken;
    throw error;
  }
}

export async function setMemberRole(
  context: Context,
  principal: UserPrincipal,
  id: string,
  role: MemberRole,
  meta: RequestMeta,
): Promise<Member> {
  checkNotSelf(principal, id, 'change the role of');
  const lock = context.db.forUpdate;
  return context.db.transaction(async (tx) => {
    const row = await memberFor(tx, principal, id, lock);
    checkActive(row, 'change role');
    checkOwnerChange(principal, [row.role, role]);
    if (row.role === role) return toMember(row);
    if (role !== 'owner') await checkNotLastOwner(tx, lock, row, 'demoted');
    await tx.execute('UPDATE users SET role = ? WHERE id = ?', [role, id]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'member.role.update',
      target: { kind: 'user', id },
      outcome: 'success',
      ...meta,
      details: { old: row.role, new: role },
    });
    return toMember({ ...row, role });
  });
}

/**
 * Removes a member: the row stays (audit records name it) with `removed_at` set, and every way
 * in ends. In one transaction: every token and session revoked, every running environment of
 * theirs asked to stop (each audited as environment.stop by the remover). Then each SSH key is
 * removed through the SSH key service, and every runner holding an environment of theirs is
 * told to end their live sessions. A removed user's SSH keys and tokens are refused even if
 * that second step fails part way, since both checks look at `removed_at`.
 */
export async function removeMember(
  context: Context,
  principal: UserPrincipal,
  id: string,
  meta: RequestMeta,
): Promise<Member> {
  checkNotSelf(principal, id, 'remove');
  const lock = context.db.forUpdate;
  const now = Date.now();
  const removed = await context.db.transaction(async (tx) => {
    const row = await memberFor(tx, principal, id, lock);
    checkActive(row, 'be removed again');
    checkOwnerChange(principal, [row.role]);
    await checkNotLastOwner(tx, lock, row, 'removed');
    await tx.execute('UPDATE users SET removed_at = ? WHERE id = ?', [now, id]);
    const tokensRevoked = await revokeAllTokensOf(tx, id, now);
    const stopped = await stopEnvironmentsOf(context, tx, principal, row, meta);
    const keys = await tx.query<{ id: string }>(
      'SELECT id FROM ssh_keys WHERE org_id = ? AND user_id = ? ORDER BY created_at, id',
      [principal.orgId, id],
    );
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'member.remove',
      target: { kind: 'user', id },
      outcome: 'success',
      ...meta,
      details: {
        role: row.role,
        tokensRevoked,
        sshKeys: keys.length,
        environmentsStopped: stopped.length,
      },
    });
    return { row: { ...row, removed_at: now }, stopped, keys };
  });
  await endAccessOf(context, principal, removed.row, removed.keys, meta);
  for (const environmentId of removed.stopped) await pushDesired(context, environmentId);
  await stopAgentTasksOf(context, principal, id, meta);
  return toMember(removed.row);
}

/** Asks every agent task of a removed user that has not ended to stop, each audited. */
async function stopAgentTasksOf(
  context: Context,
  principal: UserPrincipal,
  userId: string,
  meta: RequestMeta,
) {
  const tasks = await context.db.query<{ id: string }>(
    `SELECT id FROM agent_tasks WHERE org_id = ? AND owner_id = ? AND desired = 'run'
       AND state IN ('queued', 'running') ORDER BY created_at, id`,
    [principal.orgId, userId],
  );
  for (const task of tasks) {
    await stopAgentTask(context, principal, task.id, meta).catch((error: unknown) => {
      context.logger.warn(
        { err: error, taskId: task.id },
        "a removed member's agent task did not stop",
      );
    });
  }
}

/** Sets every environment of the user that should be running to stopped; returns their ids. */
async function stopEnvironmentsOf(
  context: Context,
  tx: Queryable,
  principal: UserPrincipal,
  user: UserRow,
  meta: RequestMeta,
): Promise<string[]> {
  const rows = await tx.query<EnvironmentRow>(
    `SELECT * FROM environments WHERE org_id = ? AND owner_id = ? AND desired_phase = 'running'
     ORDER BY created_at, id ${context.db.forUpdate}`,
    [principal.orgId, user.id],
  );
  const now = Date.now();
  for (const row of rows) {
    const spec = { ...specOf(row), desiredPhase: 'stopped' };
    await tx.execute(
      `UPDATE environments SET spec = ?, desired_phase = 'stopped', generation = generation + 1,
         operation_started_at = ?, updated_at = ? WHERE id = ?`,
      [JSON.stringify(spec), now, now, row.id],
    );
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'environment.stop',
      target: { kind: 'environment', id: row.id },
      outcome: 'success',
      ...meta,
      details: { desiredPhase: 'stopped', reason: 'its owner was removed', owner: user.id },
    });
  }
  return rows.map((row) => row.id);
}

/** Removes the user's SSH keys and tells their runners to end the user's live sessions. */
async function endAccessOf(
  context: Context,
  principal: UserPrincipal,
  user: UserRow,
  keys: readonly { id: string }[],
  meta: RequestMeta,
): Promise<void> {
  for (const key of keys) {
    // A key its owner removed a moment ago is gone already, which is what is wanted.
    await removeSshKey(context, principal, key.id, meta).catch((error: unknown) => {
      if (!(error instanceof HangarError && error.code === 'not_found')) throw error;
    });
  }
  const runners = await context.db.query<{ runner_id: string }>(
    `SELECT DISTINCT runner_id FROM environments WHERE org_id = ? AND owner_id = ?
     AND phase <> 'deleted'`,
    [principal.orgId, user.id],
  );
  for (const { runner_id: runnerId } of runners) {
    context.runners.revoke(runnerId, {
      actorId: user.id,
      reason: 'the user was removed from the organization',
    });
  }
}
