import { newId } from '@hangar/api';
import type { JWTPayload } from 'jose';
import type { Queryable } from '../storage/database.js';
import type { VerifiedIdToken } from './id-token.js';
import { SignInRefused } from './refusal.js';
import type { SignInTarget } from './sign-in.js';

/**
 * How a person is keyed: the organization, the provider and its subject, nothing that names
 * them. The organization is part of the key, so one person may be a member of several
 * organizations, and no organization can find or block another's users.
 */
export function externalKeyOf(orgId: string, issuer: string, subject: string): string {
  return `oidc:${orgId}:${issuer}#${subject}`;
}

/**
 * The organization's rules for who may sign in: a verified e-mail in an allowed domain (when
 * domains are listed) and the required claim (when one is set).
 */
export function checkSignInRules(target: SignInTarget, claims: JWTPayload): void {
  const { allowedDomains, requiredClaim } = target.config;
  if (allowedDomains.length > 0) {
    const email = typeof claims.email === 'string' ? claims.email : '';
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (
      !email.includes('@') ||
      claims.email_verified !== true ||
      !allowedDomains.includes(domain)
    ) {
      throw new SignInRefused(
        'domain not allowed',
        'your account has no verified e-mail address in a domain this organization allows; ' +
          'sign in with another account, or ask an organization admin',
      );
    }
  }
  if (requiredClaim) {
    const value = claims[requiredClaim.name];
    const held = Array.isArray(value)
      ? value.some((item) => claimText(item) === requiredClaim.value)
      : claimText(value) === requiredClaim.value;
    if (!held) {
      const why =
        value === undefined || value === null
          ? `lacks the claim ${requiredClaim.name}`
          : `has the claim ${requiredClaim.name}, but its value differs from the one`;
      throw new SignInRefused(
        'claim missing',
        `your account ${why} this organization requires; sign in with another account, or ` +
          'ask an organization admin',
      );
    }
  }
}

/**
 * A claim value as `--required-claim name=value` compares it: a string as it is, a boolean or
 * number as its JSON text (`email_verified=true`), anything else as nothing that matches.
 */
function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  return undefined;
}

interface UserRow {
  id: string;
  org_id: string;
  removed_at: number | null;
  [key: string]: string | number | null;
}

/** Name and e-mail, only the ones the ID token holds, for organizations that keep profiles. */
function profileOf(claims: JWTPayload): string | null {
  const profile: Record<string, string> = {};
  if (typeof claims.name === 'string') profile.name = claims.name.slice(0, 200);
  if (typeof claims.email === 'string') profile.email = claims.email.slice(0, 320);
  return Object.keys(profile).length > 0 ? JSON.stringify(profile) : null;
}

/**
 * Finds the user of this issuer and subject in the organization, or makes one with the
 * organization's default role. A removed user is refused. The profile is kept only when the
 * organization stores profiles, and is cleared at sign-in when it no longer does.
 */
export async function acceptIdentity(
  tx: Queryable,
  target: SignInTarget,
  identity: VerifiedIdToken,
): Promise<{ userId: string; created: boolean }> {
  checkSignInRules(target, identity.claims);
  const key = externalKeyOf(target.orgId, target.config.issuer, identity.subject);
  const profile = target.config.storeProfile ? profileOf(identity.claims) : null;
  const rows = await tx.query<UserRow>(
    'SELECT id, org_id, removed_at FROM users WHERE external_key = ? AND org_id = ?',
    [key, target.orgId],
  );
  const row = rows[0];
  if (row) {
    if (row.removed_at !== null) {
      throw new SignInRefused(
        'user removed',
        'you were removed from this organization; an owner or admin may add you again',
        { userId: row.id },
      );
    }
    await tx.execute('UPDATE users SET profile = ? WHERE id = ?', [profile, row.id]);
    return { userId: row.id, created: false };
  }
  const userId = newId('usr');
  await tx.execute(
    `INSERT INTO users (id, org_id, external_key, role, created_at, profile)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [userId, target.orgId, key, target.config.defaultRole, Date.now(), profile],
  );
  return { userId, created: true };
}
