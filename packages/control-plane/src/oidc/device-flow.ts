import {
  newId,
  sha256Hex,
  type DevicePendingResponse,
  type SessionTokenResponse,
  type StartDeviceResponse,
} from '@hangar/api';
import type { Context, RequestMeta } from '../context.js';
import { verifyIdToken } from './id-token.js';
import { pollDeviceToken, startDeviceAuthorization } from './provider-client.js';
import { SignInRefused } from './refusal.js';
import {
  auditSignInRefusal,
  loginAssociatedData,
  matchesHash,
  randomSecret,
  signIn,
  signInTarget,
  signInTargetOf,
  type SignInTarget,
} from './sign-in.js';

/** What a device sign-in keeps sealed in its row. */
interface DeviceSecrets {
  deviceCode: string;
  intervalS: number;
  /** When the provider was last polled, in ms since the epoch. */
  lastPollAt: number;
}

interface DeviceRow {
  id: string;
  org_id: string;
  state_hash: string | null;
  sealed: string;
  outcome: string | null;
  expires_at: number;
  [key: string]: string | number | null;
}

/**
 * Starts a device sign-in (RFC 8628) at the organization's provider. The device code stays
 * sealed in the control plane; the CLI gets a poll secret (kept as a hash) to ask with.
 */
export async function startDeviceLogin(
  context: Context,
  body: { org?: string | undefined },
  meta: RequestMeta,
): Promise<StartDeviceResponse> {
  let target: SignInTarget | undefined;
  try {
    target = await signInTarget(context, body.org);
    const device = await startDeviceAuthorization(target);
    const loginId = newId('lgn');
    const pollSecret = randomSecret();
    const secrets: DeviceSecrets = {
      deviceCode: device.deviceCode,
      intervalS: device.intervalS,
      lastPollAt: 0,
    };
    const now = Date.now();
    await context.db.execute(
      `INSERT INTO oidc_logins (id, org_id, flow, state_hash, sealed, expires_at, created_at)
       VALUES (?, ?, 'device', ?, ?, ?, ?)`,
      [
        loginId,
        target.orgId,
        sha256Hex(pollSecret),
        context.dataKey.seal(JSON.stringify(secrets), loginAssociatedData(loginId)),
        now + device.expiresInS * 1000,
        now,
      ],
    );
    return {
      loginId,
      pollSecret,
      userCode: device.userCode,
      verificationUri: device.verificationUri,
      ...(device.verificationUriComplete
        ? { verificationUriComplete: device.verificationUriComplete }
        : {}),
      intervalS: device.intervalS,
      expiresInS: device.expiresInS,
    };
  } catch (error) {
    if (error instanceof SignInRefused) {
      await auditSignInRefusal(context, {
        orgId: target?.orgId,
        flow: 'device',
        reason: error.reason,
        ...(target ? { issuer: target.config.issuer } : {}),
        meta,
      });
    }
    throw error;
  }
}

export type DevicePoll =
  { done: false; pending: DevicePendingResponse } | { done: true; session: SessionTokenResponse };

/**
 * One poll from the CLI. Polling faster than the interval answers `slow_down` without asking
 * the provider; the provider's `authorization_pending` and `slow_down` pass through; once the
 * person approved, the ID token is checked as in the browser flow and a session issued, once.
 */
export async function pollDeviceLogin(
  context: Context,
  body: { loginId: string; pollSecret: string },
  meta: RequestMeta,
): Promise<DevicePoll> {
  const rows = await context.db.query<DeviceRow>(
    `SELECT * FROM oidc_logins WHERE id = ? AND flow = 'device'`,
    [body.loginId],
  );
  const row = rows[0];
  let target: SignInTarget | undefined;
  try {
    if (!row || !matchesHash(body.pollSecret, row.state_hash) || row.outcome !== null) {
      throw new SignInRefused(
        row?.outcome === 'completed' ? 'login used' : 'unknown login',
        'this device sign-in is not known, or is over; run `hangar login --device` again',
      );
    }
    if (Number(row.expires_at) <= Date.now()) {
      throw new SignInRefused(
        'login expired',
        'the code was not approved in time; run `hangar login --device` again',
      );
    }
    const associated = loginAssociatedData(row.id);
    const secrets = JSON.parse(context.dataKey.open(row.sealed, associated)) as DeviceSecrets;
    const now = Date.now();
    if (now - secrets.lastPollAt < secrets.intervalS * 1000) {
      return { done: false, pending: { status: 'slow_down', intervalS: secrets.intervalS } };
    }
    target = await signInTargetOf(context, row.org_id);
    const answer = await pollDeviceToken({ ...target, deviceCode: secrets.deviceCode });
    if (!answer.ok && (answer.error === 'authorization_pending' || answer.error === 'slow_down')) {
      const intervalS = secrets.intervalS + (answer.error === 'slow_down' ? 5 : 0);
      const next: DeviceSecrets = { ...secrets, intervalS, lastPollAt: now };
      await context.db.execute('UPDATE oidc_logins SET sealed = ? WHERE id = ?', [
        context.dataKey.seal(JSON.stringify(next), associated),
        row.id,
      ]);
      const status = answer.error === 'slow_down' ? 'slow_down' : 'pending';
      return { done: false, pending: { status, intervalS } };
    }
    if (!answer.ok) {
      const denied = answer.error === 'access_denied';
      throw new SignInRefused(
        denied ? 'access denied' : 'provider error',
        denied
          ? 'the sign-in was declined at the OpenID provider'
          : `the OpenID provider ended the device sign-in (${answer.error}); run ` +
              '`hangar login --device` again',
      );
    }
    const identity = await verifyIdToken(answer.idToken, {
      metadata: target.metadata,
      clientId: target.config.clientId,
    });
    const session = await signIn(context, target, identity, {
      flow: 'device',
      loginId: row.id,
      meta,
      claim: async (tx, userId) => {
        const changed = await tx.execute(
          `UPDATE oidc_logins SET outcome = 'completed', user_id = ? WHERE id = ? AND outcome IS NULL`,
          [userId, row.id],
        );
        if (changed !== 1) throw new SignInRefused('login used', 'this sign-in was already used');
      },
    });
    return { done: true, session };
  } catch (error) {
    if (!(error instanceof SignInRefused)) throw error;
    if (row && row.outcome === null && matchesHash(body.pollSecret, row.state_hash)) {
      await context.db.execute(`UPDATE oidc_logins SET outcome = 'denied' WHERE id = ?`, [row.id]);
    }
    await auditSignInRefusal(context, {
      orgId: row?.org_id,
      flow: 'device',
      reason: error.reason,
      ...(target ? { issuer: target.config.issuer } : {}),
      ...(error.userId ? { userId: error.userId } : {}),
      ...(row ? { loginId: row.id } : {}),
      meta,
    });
    throw error;
  }
}
