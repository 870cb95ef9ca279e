import {
  EnvironmentName,
  HangarError,
  auditLimits,
  idPattern,
  storableAuditText,
  type Actor,
  type ServerMessage,
  type SshAuthorizeMessage,
} from '@hangar/api';
import { Compile } from 'typebox/compile';
import type { Context } from '../context.js';
import { builders } from '../http/access-rules.js';
import type { Role } from '../http/principal.js';
import { issueGrant } from '../services/access-grants.js';
import { isDeleted } from '../services/desired-state.js';
import type { EnvironmentRow } from '../services/environment-rows.js';
import type { SshKeyRow } from '../services/ssh-keys.js';
import { parseSshKeyBlob, type SshPublicKey } from './key-format.js';

export type SshAuthorization = ServerMessage & { type: 'ssh-authorization' };

interface ConnectedRunner {
  id: string;
  orgId: string;
}

/** One answer for every refusal, so the client learns nothing about what exists. */
const refusalMessage =
  'this key may not open that environment on this runner; register the key with ' +
  '`hangar ssh-key add` and log in as the id or name of one of your environments';

type KeyOwner = SshKeyRow & { role: string; user_removed_at: number | null };

const idRule = new RegExp(idPattern);
const nameRule = Compile(EnvironmentName);

async function keyOwner(
  context: Context,
  runner: ConnectedRunner,
  key: SshPublicKey,
): Promise<KeyOwner | undefined> {
  const rows = await context.db.query<KeyOwner>(
    `SELECT k.*, u.role, u.removed_at AS user_removed_at
     FROM ssh_keys k JOIN users u ON u.id = k.user_id
     WHERE k.org_id = ? AND k.fingerprint = ?`,
    [runner.orgId, key.fingerprint],
  );
  const row = rows[0];
  return row && row.public_key === key.blob && row.key_type === key.keyType ? row : undefined;
}

/** The environment the user name points at: an id, or the name of one of the owner's own. */
async function environmentNamed(
  context: Context,
  runner: ConnectedRunner,
  username: string,
  ownerId: string | undefined,
): Promise<EnvironmentRow | undefined> {
  if (idRule.test(username)) {
    const rows = await context.db.query<EnvironmentRow>(
      'SELECT * FROM environments WHERE id = ? AND org_id = ?',
      [username, runner.orgId],
    );
    return rows[0];
  }
  if (ownerId === undefined || !nameRule.Check(username)) return undefined;
  const rows = await context.db.query<EnvironmentRow>(
    'SELECT * FROM environments WHERE org_id = ? AND owner_id = ? AND active_name = ?',
    [runner.orgId, ownerId, username],
  );
  return rows[0];
}

function refusalReason(
  runner: ConnectedRunner,
  owner: KeyOwner | undefined,
  environment: EnvironmentRow | undefined,
): string | undefined {
  if (!owner) return 'the key is not registered in this organization';
  if (owner.user_removed_at !== null) return 'the key owner was removed from the organization';
  if (!builders.includes(owner.role as Role))
    return `the key owner's role ${owner.role} has no shell access`;
  if (!environment) return 'no such environment';
  if (environment.owner_id !== owner.user_id) return "the environment is not the key owner's";
  if (isDeleted(environment)) return 'the environment is deleted';
  if (environment.runner_id !== runner.id) return 'the environment is on another runner';
  return undefined;
}

/**
 * Decides an SSH login the runner's gateway received: the key must be registered, by a user who
 * owns the environment the user name names, which must live on this runner and not be deleted.
 * A yes is a grant (ops ssh, audience this runner) audited as environment.access; every no is
 * audited as access.denied with its reason, and answered with the same words whatever it was.
 */
export async function authorizeSsh(
  context: Context,
  runner: ConnectedRunner,
  request: SshAuthorizeMessage,
): Promise<SshAuthorization> {
  const meta = {
    requestId: request.requestId,
    sourceAddress: storableAuditText(request.sourceAddress, auditLimits.sourceAddress),
  };
  let key: SshPublicKey | undefined;
  try {
    key = parseSshKeyBlob(request.publicKey, 'publicKey');
  } catch {
    key = undefined;
  }
  const owner = key ? await keyOwner(context, runner, key) : undefined;
  const environment = await environmentNamed(context, runner, request.username, owner?.user_id);
  const reason = key ? refusalReason(runner, owner, environment) : 'the key is not a valid key';
  const actor: Actor = owner
    ? { kind: 'user', id: owner.user_id }
    : { kind: 'system', id: 'anonymous' };
  const target =
    environment && environment.org_id === runner.orgId
      ? { kind: 'environment', id: environment.id }
      : { kind: 'runner', id: runner.id };
  const details = {
    method: 'ssh',
    keyFingerprint: key?.fingerprint ?? null,
    runnerId: runner.id,
  };
  if (reason || !owner || !environment) {
    await context.audit
      .record({
        orgId: runner.orgId,
        actor,
        action: 'access.denied',
        target,
        outcome: 'denied',
        ...meta,
        details: {
          ...details,
          reason: reason ?? 'refused',
          username: storableAuditText(request.username, 100),
        },
      })
      .catch((error: unknown) =>
        context.logger.error({ err: error, runnerId: runner.id }, 'SSH refusal not audited'),
      );
    return refused(request.requestId, 'forbidden', refusalMessage);
  }
  let token: string;
  try {
    const grant = await issueGrant(context, {
      orgId: runner.orgId,
      actor,
      runnerId: runner.id,
      environmentId: environment.id,
      operations: ['ssh'],
      meta,
      details,
    });
    token = grant.token;
  } catch (error) {
    const hangar = error instanceof HangarError ? error : undefined;
    return refused(
      request.requestId,
      hangar?.code ?? 'audit_unavailable',
      'the grant could not be audited, so it is not given; try again shortly',
    );
  }
  return {
    type: 'ssh-authorization',
    requestId: request.requestId,
    ok: true,
    token,
    environmentId: environment.id,
  };
}

export function refused(requestId: string, code: string, message: string): SshAuthorization {
  return { type: 'ssh-authorization', requestId, ok: false, code, message };
}
