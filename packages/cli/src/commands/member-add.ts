import type { Member } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';
import { describeMember, memberRole } from './member-list.js';

export const command = defineCommand({
  synopsis: '--issuer URL --subject SUB --role ROLE',
  description:
    'Adds a member before their first sign-in: the user who signs in with the OpenID provider ' +
    '--issuer as --subject (the sub claim of their ID token) gets --role. Roles: owner (only ' +
    'an owner adds one), admin, member, auditor, runner-admin. A removed member is added ' +
    'again with the new role; their old tokens stay revoked.',
  spec: {
    flags: {
      ...apiFlags,
      issuer: {
        type: 'string',
        valueName: 'URL',
        required: true,
        describe: "the provider's issuer URL, exactly as its ID tokens name it",
      },
      subject: {
        type: 'string',
        valueName: 'SUB',
        required: true,
        describe: "the user's subject at that provider",
      },
      role: {
        type: 'string',
        valueName: 'ROLE',
        required: true,
        describe: 'owner, admin, member, auditor or runner-admin',
      },
    },
  },
  async run({ io, out }, { flags }) {
    const role = memberRole(flags.role, 'role', 'member add');
    const { api } = await openSession(io, flags);
    const member = await api.post<Member>('/v1/members', {
      issuer: flags.issuer,
      subject: flags.subject,
      role,
    });
    out.result(member, () => [`added ${describeMember(member)}`]);
    return 0;
  },
});
