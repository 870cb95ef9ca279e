import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  HangarError,
  fingerprint,
  isValidPublicKey,
  newId,
  sha256Hex,
  type Runner,
  type RunnerClass,
  type RunnerSsh,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { runnerAdmins } from '../http/access-rules.js';
import { systemAuditOrg } from '../http/authenticate.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { isUniqueViolation } from '../storage/open.js';

export const enrollmentTtlMs = 60 * 60 * 1000;

export interface RunnerRow {
  id: string;
  org_id: string;
  name: string;
  public_key: string | null;
  gateway_url: string | null;
  classes: string;
  connected: number;
  last_seen_at: number | null;
  audit_acked_seq: number;
  created_at: number;
  ssh_address: string | null;
  ssh_host_keys: string | null;
  disabled_at: number | null;
  key_rotation_requested_at: number | null;
  encryption_key: string | null;
  [key: string]: string | number | null;
}

export function runnerClasses(row: RunnerRow): RunnerClass[] {
  return JSON.parse(row.classes) as RunnerClass[];
}

/** The SSH gateway the runner last published, when it serves one. */
export function runnerSsh(row: RunnerRow): RunnerSsh | undefined {
  if (row.ssh_address === null || row.ssh_host_keys === null) return undefined;
  return { address: row.ssh_address, hostKeys: JSON.parse(row.ssh_host_keys) as string[] };
}

export function toRunner(row: RunnerRow): Runner {
  const runner: Runner = {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    state: runnerState(row),
    classes: runnerClasses(row),
    createdAt: new Date(row.created_at).toISOString(),
  };
  if (row.public_key !== null) runner.publicKeyFingerprint = fingerprint(row.public_key);
  if (row.encryption_key !== null) {
    runner.encryptionKeyFingerprint = fingerprint(row.encryption_key);
  }
  if (row.gateway_url !== null) runner.gatewayUrl = row.gateway_url;
  const ssh = runnerSsh(row);
  if (ssh) runner.ssh = ssh;
  if (row.last_seen_at !== null) runner.lastSeenAt = new Date(row.last_seen_at).toISOString();
  if (row.disabled_at !== null) runner.disabledAt = new Date(row.disabled_at).toISOString();
  if (row.key_rotation_requested_at !== null) {
    runner.keyRotationRequestedAt = new Date(row.key_rotation_requested_at).toISOString();
  }
  return runner;
}

function runnerState(row: RunnerRow): Runner['state'] {
  if (row.disabled_at !== null) return 'disabled';
  if (row.public_key === null) return 'pending';
  return row.connected === 1 ? 'online' : 'offline';
}

export async function runnerById(db: Queryable, id: string): Promise<RunnerRow | undefined> {
  const rows = await db.query<RunnerRow>('SELECT * FROM runners WHERE id = ?', [id]);
  return rows[0];
}

/** Creates a runner record and its single-use enrollment token, shown only in this answer. */
export async function createRunner(
  context: Context,
  principal: UserPrincipal,
  name: string,
  meta: RequestMeta,
) {
  const id = newId('run');
  const secret = randomBytes(32).toString('base64url');
  const enrollmentId = newId('enr');
  const now = Date.now();
  const expiresAt = now + enrollmentTtlMs;
  try {
    await context.db.transaction(async (tx) => {
      await tx.execute(
        `INSERT INTO runners (id, org_id, name, classes, connected, audit_acked_seq, created_at)
         VALUES (?, ?, ?, '[]', 0, 0, ?)`,
        [id, principal.orgId, name, now],
      );
      await tx.execute(
        `INSERT INTO enrollment_tokens (id, runner_id, secret_hash, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?)`,
        [enrollmentId, id, sha256Hex(secret), expiresAt, now],
      );
      await context.audit.append(tx, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'runner.create',
        target: { kind: 'runner', id },
        outcome: 'success',
        ...meta,
        details: { name },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HangarError(
        'conflict',
        `a runner named ${name} already exists; pick another name`,
        {
          fields: [{ field: 'name', message: 'is already taken' }],
        },
      );
    }
    throw error;
  }
  const row = await runnerById(context.db, id);
  if (!row) throw new HangarError('internal', 'runner vanished after create');
  return {
    runner: toRunner(row),
    enrollmentToken: `hge_${enrollmentId}_${secret}`,
    enrollmentExpiresAt: new Date(expiresAt).toISOString(),
  };
}

const enrollmentPattern = /^hge_(enr_[0-9a-z]{8,40})_([A-Za-z0-9_-]{40,64})$/;

interface EnrollmentRow {
  id: string;
  runner_id: string;
  secret_hash: string;
  expires_at: number;
  used_at: number | null;
  [key: string]: string | number | null;
}

/**
 * Binds a runner's public key to its record with a single-use enrollment token. The token is
 * spent in the same transaction, so a second use, even a concurrent one, is refused.
 */
export async function enrollRunner(
  context: Context,
  input: { enrollmentToken: string; publicKey: string },
  meta: RequestMeta,
) {
  if (!isValidPublicKey(input.publicKey)) {
    throw new HangarError('invalid_request', 'publicKey is not a raw Ed25519 key in base64url', {
      fields: [{ field: 'publicKey', message: 'must be 32 bytes, base64url' }],
    });
  }
  const invalid = () =>
    new HangarError(
      'enrollment_token_invalid',
      'the enrollment token is not valid, was already used or has expired; ' +
        'create a new one with `hangar runner create`',
    );
  const match = enrollmentPattern.exec(input.enrollmentToken);
  if (!match) throw invalid();
  const [, enrollmentId = '', secret = ''] = match;
  const result = await context.db.transaction(async (tx) => {
    const rows = await tx.query<EnrollmentRow>(
      `SELECT * FROM enrollment_tokens WHERE id = ? ${context.db.forUpdate}`,
      [enrollmentId],
    );
    const row = rows[0];
    const hashOk =
      row !== undefined &&
      timingSafeEqual(Buffer.from(row.secret_hash, 'hex'), Buffer.from(sha256Hex(secret), 'hex'));
    const runner = row ? await runnerById(tx, row.runner_id) : undefined;
    if (!row || !hashOk || !runner) return { ok: false as const };
    if (row.used_at !== null || row.expires_at <= Date.now()) {
      return { ok: false as const, runner, reason: row.used_at !== null ? 'used' : 'expired' };
    }
    await tx.execute('UPDATE enrollment_tokens SET used_at = ? WHERE id = ?', [Date.now(), row.id]);
    await tx.execute('UPDATE runners SET public_key = ? WHERE id = ?', [
      input.publicKey,
      runner.id,
    ]);
    await context.audit.append(tx, {
      orgId: runner.org_id,
      actor: { kind: 'runner', id: runner.id },
      action: 'runner.enroll',
      target: { kind: 'runner', id: runner.id },
      outcome: 'success',
      ...meta,
      details: { fingerprint: fingerprint(input.publicKey) },
    });
    return { ok: true as const, runner };
  });
  if (!result.ok) {
    const runnerId = result.runner?.id ?? 'unknown';
    await context.audit
      .record({
        orgId: result.runner?.org_id ?? systemAuditOrg,
        actor: { kind: 'runner', id: runnerId },
        action: 'runner.enroll',
        target: { kind: 'runner', id: runnerId },
        outcome: 'denied',
        ...meta,
        details: { reason: `enrollment token ${result.reason ?? 'not valid'}` },
      })
      .catch(() => undefined);
    throw invalid();
  }
  return {
    runnerId: result.runner.id,
    orgId: result.runner.org_id,
    controlPlanePublicKey: context.signingKey.publicKeyRaw,
  };
}

/**
 * How many environments (not deleted) each runner of the organization holds, for the roles that
 * manage runners: a member may read the runners but not how busy the organization is.
 */
async function environmentCounts(
  context: Context,
  principal: UserPrincipal,
  runnerId?: string,
): Promise<Map<string, number> | undefined> {
  if (!runnerAdmins.includes(principal.role)) return undefined;
  const oneRunner = runnerId === undefined ? '' : 'AND runner_id = ?';
  const rows = await context.db.query<{ runner_id: string; n: number | string }>(
    `SELECT runner_id, COUNT(*) AS n FROM environments
     WHERE org_id = ? AND phase <> 'deleted' ${oneRunner} GROUP BY runner_id`,
    runnerId === undefined ? [principal.orgId] : [principal.orgId, runnerId],
  );
  // PostgreSQL answers COUNT(*) as a bigint, which its driver hands over as text.
  return new Map(rows.map((row) => [row.runner_id, Number(row.n)]));
}

function withCount(runner: Runner, counts: Map<string, number> | undefined): Runner {
  return counts ? { ...runner, environmentCount: counts.get(runner.id) ?? 0 } : runner;
}

export async function listRunners(context: Context, principal: UserPrincipal) {
  const rows = await context.db.query<RunnerRow>(
    'SELECT * FROM runners WHERE org_id = ? ORDER BY created_at, id',
    [principal.orgId],
  );
  const counts = await environmentCounts(context, principal);
  return rows.map((row) => withCount(toRunner(row), counts));
}

export async function getRunner(context: Context, principal: UserPrincipal, id: string) {
  const row = await runnerById(context.db, id);
  if (!row || row.org_id !== principal.orgId) {
    throw new HangarError('not_found', `runner ${id} does not exist in your organization`);
  }
  return withCount(toRunner(row), await environmentCounts(context, principal, id));
}
