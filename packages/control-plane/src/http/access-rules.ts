import type { Scope } from '@hangar/api';
import type { Role } from './principal.js';

/**
 * Every route declares exactly one of these in `config.access`. The app refuses to start when a
 * route has none (see `enforceAccessRules`), and a test walks every route to prove it.
 */
export type AccessRule =
  | { kind: 'public'; why: string }
  | { kind: 'enrollment' }
  | { kind: 'runner' }
  | {
      kind: 'user';
      /** The scope the token must carry; 'any' for routes every valid token may use. */
      scope: Scope | 'any';
      roles: readonly Role[];
      /** For routes on one environment: who among the allowed roles may touch it. */
      environment?: 'owner' | 'owner-or-admin' | 'org';
    };

export const allRoles: readonly Role[] = ['owner', 'admin', 'member', 'auditor', 'runner-admin'];
export const builders: readonly Role[] = ['owner', 'admin', 'member'];
export const admins: readonly Role[] = ['owner', 'admin'];
export const runnerAdmins: readonly Role[] = ['owner', 'admin', 'runner-admin'];
export const auditReaders: readonly Role[] = ['owner', 'admin', 'auditor'];
/** Everyone but auditors, who read the audit log and nothing else. */
export const orgReaders: readonly Role[] = ['owner', 'admin', 'member', 'runner-admin'];

export function userRule(
  scope: Scope | 'any',
  roles: readonly Role[],
  environment?: 'owner' | 'owner-or-admin' | 'org',
): AccessRule {
  return environment ? { kind: 'user', scope, roles, environment } : { kind: 'user', scope, roles };
}
