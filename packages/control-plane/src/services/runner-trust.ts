import {
  HangarError,
  fingerprint,
  isValidPublicKey,
  publicKeyObject,
  runnerRotateKeyMessage,
  verifyBytes,
  type Runner,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { actorOf, type UserPrincipal } from '../http/principal.js';
import type { Queryable } from '../storage/database.js';
import { runnerById, toRunner, type RunnerRow } from './runners.js';

/** What the trust actions need from the runner hub: the live connection of one runner. */
/**
 * Records a refused runner connection (`runner.connect` denied or failed); never throws, since
 * the connection is refused either way.
 */
export async function recordConnectRefusal(
  context: Context,
  runner: RunnerRow,
  refusal: { outcome: 'denied' | 'failure'; reason: string; sourceAddress: string },
): Promise<void> {
  await context.audit
    .record({
      orgId: runner.org_id,
      actor: { kind: 'runner', id: runner.id },
      action: 'runner.connect',
      target: { kind: 'runner', id: runner.id },
      outcome: refusal.outcome,
      requestId: 'runner-connection',
      sourceAddress: refusal.sourceAddress,
      details: { reason: refusal.reason },
    })
    .catch(() => undefined);
}

export interface RunnerConnections {
  /** Closes the runner's live connection at once, if it has one. */
  disconnectDisabled(runnerId: string): void;
  /** Sends `rotate-key-request` to the runner now, if it is connected; else on its next welcome. */
  requestKeyRotation(runnerId: string): void;
}

async function lockedRunner(
  context: Context,
  tx: Queryable,
  principal: UserPrincipal,
  id: string,
): Promise<RunnerRow> {
  const rows = await tx.query<RunnerRow>(
    `SELECT * FROM runners WHERE id = ? ${context.db.forUpdate}`,
    [id],
  );
  const row = rows[0];
  if (!row || row.org_id !== principal.orgId) {
    throw new HangarError('not_found', `runner ${id} does not exist in your organization`);
  }
  return row;
}

/**
 * Disables or enables a runner. A disabled runner's connection is closed at once, its hellos are
 * refused, and no grant is issued for its environments. Repeating the current state is a no-op.
 */
export async function setRunnerDisabled(
  context: Context,
  connections: RunnerConnections,
  request: { principal: UserPrincipal; runnerId: string; disabled: boolean; meta: RequestMeta },
): Promise<Runner> {
  const { principal, runnerId, disabled } = request;
  const changed = await context.db.transaction(async (tx) => {
    const row = await lockedRunner(context, tx, principal, runnerId);
    if ((row.disabled_at !== null) === disabled) return false;
    await tx.execute('UPDATE runners SET disabled_at = ? WHERE id = ?', [
      disabled ? Date.now() : null,
      runnerId,
    ]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: disabled ? 'runner.disable' : 'runner.enable',
      target: { kind: 'runner', id: runnerId },
      outcome: 'success',
      ...request.meta,
      details: { name: row.name },
    });
    return true;
  });
  if (changed && disabled) connections.disconnectDisabled(runnerId);
  const row = await runnerById(context.db, runnerId);
  if (!row) throw new HangarError('internal', `runner ${runnerId} vanished`);
  return toRunner(row);
}

/**
 * Records that the runner must rotate its key and tells it so. The runner makes the new key pair
 * itself and proves it over its authenticated connection (`completeKeyRotation`); the private key
 * never leaves the runner.
 */
export async function requestKeyRotation(
  context: Context,
  connections: RunnerConnections,
  request: { principal: UserPrincipal; runnerId: string; meta: RequestMeta },
): Promise<Runner> {
  const { principal, runnerId } = request;
  await context.db.transaction(async (tx) => {
    const row = await lockedRunner(context, tx, principal, runnerId);
    if (row.public_key === null) {
      throw new HangarError(
        'conflict',
        `runner ${runnerId} has not enrolled yet, so it has no key to rotate; start it first`,
      );
    }
    if (row.disabled_at !== null) {
      throw new HangarError(
        'conflict',
        `runner ${runnerId} is disabled and cannot connect to rotate its key; enable it first`,
      );
    }
    if (row.key_rotation_requested_at !== null) return;
    await tx.execute('UPDATE runners SET key_rotation_requested_at = ? WHERE id = ?', [
      Date.now(),
      runnerId,
    ]);
    await context.audit.append(tx, {
      orgId: principal.orgId,
      actor: actorOf(principal),
      action: 'runner.key.rotate',
      target: { kind: 'runner', id: runnerId },
      outcome: 'success',
      ...request.meta,
      details: { stage: 'requested', fingerprint: fingerprint(row.public_key) },
    });
  });
  connections.requestKeyRotation(runnerId);
  const row = await runnerById(context.db, runnerId);
  if (!row) throw new HangarError('internal', `runner ${runnerId} vanished`);
  return toRunner(row);
}

/** Whether a key rotation was asked for and not yet done, to repeat the request on a welcome. */
export async function keyRotationPending(context: Context, runnerId: string): Promise<boolean> {
  const row = await runnerById(context.db, runnerId);
  return row?.key_rotation_requested_at != null && row.disabled_at === null;
}

/**
 * Replaces a runner's key with the one it sent over the connection its current key
 * authenticated. The proof is a signature by the new key over this connection's server nonce, so
 * the runner holds the new private key. Only an asked-for rotation is accepted: a stolen key
 * alone cannot lock the real runner out by rotating on its own.
 */
export async function completeKeyRotation(
  context: Context,
  request: {
    runner: { id: string; orgId: string };
    publicKey: string;
    proof: string;
    serverNonce: string;
    sourceAddress: string;
  },
): Promise<{ publicKeyFingerprint: string }> {
  const { runner } = request;
  if (!isValidPublicKey(request.publicKey)) {
    throw new HangarError('invalid_request', 'rotate-key publicKey is not a raw Ed25519 key');
  }
  const signed = runnerRotateKeyMessage({ runnerId: runner.id, serverNonce: request.serverNonce });
  if (!verifyBytes(publicKeyObject(request.publicKey), signed, request.proof)) {
    throw new HangarError('invalid_request', 'rotate-key proof does not verify with the new key');
  }
  return context.db.transaction(async (tx) => {
    const rows = await tx.query<RunnerRow>(
      `SELECT * FROM runners WHERE id = ? ${context.db.forUpdate}`,
      [runner.id],
    );
    const row = rows[0];
    if (!row?.public_key || row.key_rotation_requested_at === null || row.disabled_at !== null) {
      throw new HangarError(
        'conflict',
        'no key rotation was requested for this runner; ask with `hangar runner rotate-key`',
      );
    }
    if (row.public_key === request.publicKey) {
      throw new HangarError('invalid_request', 'rotate-key publicKey is the current key');
    }
    await tx.execute(
      'UPDATE runners SET public_key = ?, key_rotation_requested_at = NULL WHERE id = ?',
      [request.publicKey, runner.id],
    );
    const next = fingerprint(request.publicKey);
    await context.audit.append(tx, {
      orgId: runner.orgId,
      actor: { kind: 'runner', id: runner.id },
      action: 'runner.key.rotate',
      target: { kind: 'runner', id: runner.id },
      outcome: 'success',
      requestId: 'runner-connection',
      sourceAddress: request.sourceAddress,
      details: { stage: 'done', oldFingerprint: fingerprint(row.public_key), newFingerprint: next },
    });
    return { publicKeyFingerprint: next };
  });
}
