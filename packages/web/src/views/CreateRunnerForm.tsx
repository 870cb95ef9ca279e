import { useId, type FormEvent } from 'react';

export interface CreateRunnerFormProps {
  busy: boolean;
  error: string | null;
  onCreate: (name: string) => void;
}

/** Names a new runner; the answer carries its enrollment token, shown once. */
export function CreateRunnerForm({ busy, error, onCreate }: CreateRunnerFormProps) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = new FormData(event.currentTarget).get('name');
    if (typeof name === 'string' && name.trim()) onCreate(name.trim());
  };
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New runner</h2>
      <form className="create" onSubmit={submit}>
        <label htmlFor={`${id}-name`}>Runner name</label>
        <input
          id={`${id}-name`}
          name="name"
          type="text"
          required
          aria-describedby={`${id}-hint`}
          autoComplete="off"
        />
        <p id={`${id}-hint`} className="hint">
          Lower-case letters, digits and dashes, such as build-box-1.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create runner'}
        </button>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </section>
  );
}
