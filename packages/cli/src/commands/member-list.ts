import { memberRoles, type Member, type MemberRole } from '@hangar/api';
import { defineCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

const userIdPattern = /^usr_[0-9a-z]{8,40}$/;

/** A member's user id from the command line; anything else is a usage error saying where. */
export function memberId(text: string, commandPath: string): string {
  if (userIdPattern.test(text)) return text;
  throw new UsageError(
    `the member must be a user id such as usr_…, got "${text}"; \`hangar member list\` shows them`,
    { commandPath, fields: [{ field: 'member', message: 'must be a user id' }] },
  );
}

/** A role from the command line, or a usage error listing the roles there are. */
export function memberRole(text: string, field: string, commandPath: string): MemberRole {
  const role = memberRoles.find((item) => item === text);
  if (role) return role;
  const allowed = memberRoles.join(', ');
  throw new UsageError(`the role must be one of ${allowed}, got "${text}"`, {
    commandPath,
    fields: [{ field, message: `must be one of ${allowed}` }],
  });
}

/** One line for a member: id, role and how they sign in. */
export function describeMember(member: Member): string {
  const state = member.removedAt ? `, removed ${member.removedAt}` : '';
  return `${member.id} ${member.role} ${member.externalKey}${state}`;
}

function profileText(member: Member): string {
  const parts = [member.profile?.name, member.profile?.email].filter((part) => part);
  return parts.length > 0 ? parts.join(' ') : '-';
}

export const command = defineCommand({
  synopsis: '',
  description:
    'Lists the members of your organization (owners and admins, with a token that ' +
    'has the org:admin scope): id, role, how they sign in, name and e-mail if the ' +
    'organization stores them, added, and whether they were removed.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const { members } = await api.get<{ members: Member[] }>('/v1/members');
    out.result({ members }, () =>
      table(
        ['ID', 'ROLE', 'SIGNS IN AS', 'PROFILE', 'ADDED', 'STATE'],
        members.map((member) => [
          member.id,
          member.role,
          member.externalKey,
          profileText(member),
          member.createdAt,
          member.removedAt ? `removed ${member.removedAt}` : 'active',
        ]),
      ),
    );
    return 0;
  },
});
