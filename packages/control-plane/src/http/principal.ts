import type { Actor, Scope } from '@hangar/api';

export const roles = ['owner', 'admin', 'member', 'auditor', 'runner-admin'] as const;

export type Role = (typeof roles)[number];

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
