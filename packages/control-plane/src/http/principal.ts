import { memberRoles, type Actor, type MemberRole, type Scope } from '@hangar/api';

export const roles = memberRoles;

export type Role = MemberRole;

export interface UserPrincipal {
  kind: 'user';
  userId: string;
  orgId: string;
  role: Role;
  scopes: Scope[];
  tokenId: string;
  /** When the token this request came with expires, in ms since the epoch. */
  tokenExpiresAt: number;
}

export function actorOf(principal: UserPrincipal): Actor {
  return { kind: 'user', id: principal.userId };
}

export function isAdmin(principal: UserPrincipal): boolean {
  return principal.role === 'owner' || principal.role === 'admin';
}
