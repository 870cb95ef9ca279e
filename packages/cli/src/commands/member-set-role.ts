import type { Member } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';
import { describeMember, memberId, memberRole } from './member-list.js';

export const command = defineCommand({
  synopsis: '<member> <role>',
  description:
    "Changes a member's role (owners and admins). Only an owner makes or unmakes an owner, the " +
    'last owner keeps the role, and nobody changes their own. The new role holds from the ' +
    "member's next request.",
  spec: {
    positionals: [
      { name: 'member', required: true, describe: 'user id (usr_…), from `hangar member list`' },
      {
        name: 'role',
        required: true,
        describe: 'owner, admin, member, auditor or runner-admin',
      },
    ],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const id = memberId(positionals.member, 'member set-role');
    const role = memberRole(positionals.role, 'role', 'member set-role');
    const { api } = await openSession(io, flags);
    const member = await api.json<Member>('PATCH', `/v1/members/${encodeURIComponent(id)}`, {
      body: { role },
    });
    out.result(member, () => [describeMember(member)]);
    return 0;
  },
});
