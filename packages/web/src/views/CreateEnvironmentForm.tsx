import { useId, type FormEvent } from 'react';
import type { CreateEnvironmentBody } from '../client.js';

export interface CreateEnvironmentFormProps {
  busy: boolean;
  error: string | null;
  onCreate: (body: CreateEnvironmentBody) => void;
  /** Changes after each environment made, which empties the form for the next one. */
  resetKey?: number;
}

/** Reads the form into a create body, leaving out the optional fields left empty. */
export function createBodyOf(form: FormData): CreateEnvironmentBody {
  const text = (name: string) => {
    const value = form.get(name);
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  const url = text('repository') ?? '';
  const ref = text('ref');
  const name = text('name');
  const className = text('class');
  const devcontainerPath = text('devcontainerPath');
  return {
    repository: ref ? { url, ref } : { url },
    ...(name ? { name } : {}),
    ...(className ? { class: className } : {}),
    ...(devcontainerPath ? { devcontainerPath } : {}),
  };
}

export function CreateEnvironmentForm({
  busy,
  error,
  onCreate,
  resetKey = 0,
}: CreateEnvironmentFormProps) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onCreate(createBodyOf(new FormData(event.currentTarget)));
  };
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New environment</h2>
      <form className="create" onSubmit={submit} key={resetKey}>
        <label htmlFor={`${id}-repository`}>Repository URL</label>
        <input id={`${id}-repository`} name="repository" type="text" required />
        <label htmlFor={`${id}-ref`}>Ref (branch, tag or commit; optional)</label>
        <input id={`${id}-ref`} name="ref" type="text" />
        <label htmlFor={`${id}-class`}>Class (optional)</label>
        <input id={`${id}-class`} name="class" type="text" />
        <label htmlFor={`${id}-devcontainer`}>devcontainer.json path (optional)</label>
        <input
          id={`${id}-devcontainer`}
          name="devcontainerPath"
          type="text"
          placeholder=".devcontainer/devcontainer.json"
        />
        <label htmlFor={`${id}-name`}>Name (optional)</label>
        <input id={`${id}-name`} name="name" type="text" />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create environment'}
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
