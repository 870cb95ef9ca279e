import { useId, type FormEvent } from 'react';
import type { Role } from '../../client.js';
import type { LoadState } from '../../load.js';
import type { Member } from '../../org-types.js';
import { ErrorNote, Loaded, Time } from '../common.js';
import { AddMemberForm, type AddMemberFormProps } from './AddMemberForm.js';
import { isRole, roles } from './roles.js';

export interface MemberActions {
  onSetRole: (id: string, role: Role) => void;
  onAskRemove: (id: string) => void;
  onCancelRemove: () => void;
  onConfirmRemove: (id: string) => void;
}

export interface MembersViewProps extends MemberActions {
  members: LoadState<Member[]>;
  /** The signed-in user: their own row offers no role change or removal. */
  selfId: string;
  add: AddMemberFormProps;
  confirmingRemove: string | null;
  actionError: string | null;
  notice: string | null;
}

/** How a member is named on the page: their profile name or e-mail if stored, else their key. */
export function memberName(member: Member): string {
  return member.profile?.name ?? member.profile?.email ?? member.externalKey;
}

/** The members section: who belongs to the organization, their roles, add, change, remove. */
export function MembersView({ members, add, actionError, notice, ...rest }: MembersViewProps) {
  return (
    <section id="members" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <Loaded
        state={members}
        what="members"
        ready={(list) => (
          <>
            {notice ? <p role="status">{notice}</p> : null}
            {actionError ? <ErrorNote>{actionError}</ErrorNote> : null}
            <MemberTable members={list} {...rest} />
            <AddMemberForm {...add} />
          </>
        )}
      />
    </section>
  );
}

type TableProps = MemberActions & {
  members: Member[];
  selfId: string;
  confirmingRemove: string | null;
};

function MemberTable({ members, ...rest }: TableProps) {
  if (members.length === 0) return <p role="status">No members yet.</p>;
  return (
    <div className="table-scroll">
      <table className="members">
        <caption>Members and their roles</caption>
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">User id</th>
            <th scope="col">Role</th>
            <th scope="col">Added</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <MemberRow key={member.id} member={member} {...rest} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MemberRow({
  member,
  selfId,
  confirmingRemove,
  ...actions
}: Omit<TableProps, 'members'> & { member: Member }) {
  const name = memberName(member);
  const active = member.removedAt === undefined;
  const self = member.id === selfId;
  return (
    <tr data-member={member.externalKey}>
      <th scope="row">
        {name === member.externalKey ? <code>{name}</code> : name}
        {name !== member.externalKey ? (
          <>
            <br />
            <code>{member.externalKey}</code>
          </>
        ) : null}
      </th>
      <td>
        <code>{member.id}</code>
      </td>
      <td>
        {active && !self ? (
          <RoleChange key={member.role} member={member} name={name} onSetRole={actions.onSetRole} />
        ) : (
          <span data-role={member.role}>
            {member.role}
            {self ? ' (you)' : ''}
          </span>
        )}
      </td>
      <td>
        <Time at={member.createdAt} />
      </td>
      <td>
        {active ? (
          'active'
        ) : (
          <>
            removed <Time at={member.removedAt} />
          </>
        )}
      </td>
      <td>
        {active && !self ? (
          <RemoveMember
            member={member}
            name={name}
            confirming={confirmingRemove === member.id}
            {...actions}
          />
        ) : null}
      </td>
    </tr>
  );
}

function RoleChange({
  member,
  name,
  onSetRole,
}: {
  member: Member;
  name: string;
  onSetRole: MemberActions['onSetRole'];
}) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const role = new FormData(event.currentTarget).get('role');
    if (isRole(role)) onSetRole(member.id, role);
  };
  return (
    <form className="inline" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        Role of {name}
      </label>
      <select id={id} name="role" defaultValue={member.role}>
        {roles.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>{' '}
      <button type="submit">
        Change role <span className="visually-hidden">of {name}</span>
      </button>
    </form>
  );
}

function RemoveMember({
  member,
  name,
  confirming,
  onAskRemove,
  onCancelRemove,
  onConfirmRemove,
}: Omit<MemberActions, 'onSetRole'> & { member: Member; name: string; confirming: boolean }) {
  if (!confirming) {
    return (
      <button type="button" onClick={() => onAskRemove(member.id)}>
        Remove <span className="visually-hidden">{name}</span>
      </button>
    );
  }
  return (
    <div role="group" aria-label={`Confirm removing ${name}`} className="confirm">
      <p>
        Remove {name}? Their API tokens, sign-in sessions and SSH keys end at once, and their
        environments and agent tasks stop.
      </p>
      <button type="button" className="danger" onClick={() => onConfirmRemove(member.id)}>
        Yes, remove {name}
      </button>{' '}
      <button type="button" onClick={onCancelRemove}>
        Cancel
      </button>
    </div>
  );
}
