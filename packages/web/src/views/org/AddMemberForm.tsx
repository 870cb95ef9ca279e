import { useId, type FormEvent } from 'react';
import type { AddMemberBody } from '../../org-types.js';
import { ErrorNote } from '../common.js';
import { isRole, roles, roleText } from './roles.js';

export interface AddMemberFormProps {
  busy: boolean;
  error: string | null;
  /** Changes after each member added, so the form starts empty again. */
  formKey: number;
  onAdd: (body: AddMemberBody) => void;
}

/** Reads the form into the body of `POST /v1/members`; undefined until every field is there. */
export function addMemberBodyOf(form: FormData): AddMemberBody | undefined {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  const role = form.get('role');
  const issuer = text('issuer');
  const subject = text('subject');
  if (!issuer || !subject || !isRole(role)) return undefined;
  return { issuer, subject, role };
}

/** Adds a member by their OpenID provider's issuer and subject, before their first sign-in. */
export function AddMemberForm({ busy, error, formKey, onAdd }: AddMemberFormProps) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const body = addMemberBodyOf(new FormData(event.currentTarget));
    if (body) onAdd(body);
  };
  return (
    <form key={formKey} className="add-member" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Add a member</h3>
      <p className="hint">
        They sign in with single sign-on; give the issuer and the subject (the sub claim) exactly as
        their provider's ID tokens name them.
      </p>
      <label htmlFor={`${id}-issuer`}>Issuer URL</label>
      <input id={`${id}-issuer`} name="issuer" type="url" required />
      <label htmlFor={`${id}-subject`}>Subject</label>
      <input id={`${id}-subject`} name="subject" type="text" required />
      <label htmlFor={`${id}-role`}>Role</label>
      <select id={`${id}-role`} name="role" defaultValue="member">
        {roles.map((role) => (
          <option key={role} value={role}>
            {roleText[role]}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add member'}
      </button>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
    </form>
  );
}
