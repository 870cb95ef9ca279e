import type { Member } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';
import { memberId } from './member-list.js';

export const command = defineCommand({
  synopsis: '<member>',
  description:
    'Removes a member (owners and admins; an owner only by an owner). At once: every token and ' +
    'session of theirs is refused, their SSH keys are removed and their live sessions ended, ' +
    'and their running environments are stopped. The record of the member is kept.',
  spec: {
    positionals: [
      { name: 'member', required: true, describe: 'user id (usr_…), from `hangar member list`' },
    ],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const id = memberId(positionals.member, 'member remove');
    const { api } = await openSession(io, flags);
    const member = await api.delete<Member>(`/v1/members/${encodeURIComponent(id)}`);
    out.result(member, () => [
      `removed ${member.id} (${member.role}, ${member.externalKey}) at ${member.removedAt ?? '?'}`,
    ]);
    return 0;
  },
});
