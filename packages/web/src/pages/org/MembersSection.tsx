import { useState } from 'react';
import { useApp } from '../../app-context.js';
import { resultOf, type Role } from '../../client.js';
import { useLoad, type LoadState } from '../../load.js';
import type { AddMemberBody, Member } from '../../org-types.js';
import { memberName, MembersView } from '../../views/org/MembersView.js';

/** Members: listed, added, their role changed, removed; every refusal in the API's words. */
export function MembersSection() {
  const { client, session } = useApp();
  const { state, reload } = useLoad(() => resultOf(client.GET('/v1/members')), 'members');
  const [confirmingRemove, setConfirmingRemove] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [add, setAdd] = useState({ busy: false, error: null as string | null, formKey: 0 });

  const members: LoadState<Member[]> =
    state.kind === 'ready' ? { kind: 'ready', data: state.data.members } : state;
  const named = (id: string) => {
    const member = members.kind === 'ready' ? members.data.find((m) => m.id === id) : undefined;
    return member ? memberName(member) : id;
  };

  const report = async (result: { ok: true } | { ok: false; message: string }, done: string) => {
    setActionError(result.ok ? null : result.message);
    setNotice(result.ok ? done : null);
    await reload();
  };

  const onAdd = async (body: AddMemberBody) => {
    setAdd((state) => ({ ...state, busy: true, error: null }));
    const result = await resultOf(client.POST('/v1/members', { body }));
    setAdd((state) => ({
      busy: false,
      error: result.ok ? null : result.message,
      formKey: result.ok ? state.formKey + 1 : state.formKey,
    }));
    setNotice(result.ok ? `Added ${memberName(result.data)} as ${result.data.role}.` : null);
    await reload();
  };

  const onSetRole = async (id: string, role: Role) => {
    const result = await resultOf(
      client.PATCH('/v1/members/{id}', { params: { path: { id } }, body: { role } }),
    );
    await report(result, `${named(id)} is now ${role}.`);
  };

  const onConfirmRemove = async (id: string) => {
    setConfirmingRemove(null);
    const name = named(id);
    const result = await resultOf(client.DELETE('/v1/members/{id}', { params: { path: { id } } }));
    await report(
      result,
      `Removed ${name}: their tokens, sessions and SSH keys have ended, and their environments ` +
        'are stopping.',
    );
  };

  return (
    <MembersView
      members={members}
      selfId={session.userId}
      add={{ ...add, onAdd: (body) => void onAdd(body) }}
      confirmingRemove={confirmingRemove}
      actionError={actionError}
      notice={notice}
      onSetRole={(id, role) => void onSetRole(id, role)}
      onAskRemove={setConfirmingRemove}
      onCancelRemove={() => setConfirmingRemove(null)}
      onConfirmRemove={(id) => void onConfirmRemove(id)}
    />
  );
}
