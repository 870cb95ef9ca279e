import type { Role } from '../../client.js';

/**
 * Each role and what it is for, in the order the role pickers offer them. A record over `Role`,
 * so a role the API adds fails to compile here until it is described. The API decides what
 * each may really do.
 */
export const roleText: Record<Role, string> = {
  owner: 'owner: everything, other owners included',
  admin: 'admin: members, policies, organization secrets',
  member: 'member: their own environments, agents and secrets',
  auditor: 'auditor: reads the audit log, nothing else',
  'runner-admin': 'runner-admin: manages runners',
};

export const roles = Object.keys(roleText) as Role[];

export function isRole(text: unknown): text is Role {
  return typeof text === 'string' && (roles as string[]).includes(text);
}
