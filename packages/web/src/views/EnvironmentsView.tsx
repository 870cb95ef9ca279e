import { CreateEnvironmentForm, type CreateEnvironmentFormProps } from './CreateEnvironmentForm.js';
import { EnvironmentList, type EnvironmentListProps } from './EnvironmentList.js';

export interface EnvironmentsViewProps extends EnvironmentListProps {
  create: CreateEnvironmentFormProps;
  actionError: string | null;
  onSignOut: () => void;
}

/** The environments page: the create form, then the list with each one's live phase. */
export function EnvironmentsView({
  create,
  actionError,
  onSignOut,
  ...list
}: EnvironmentsViewProps) {
  return (
    <>
      <header className="top">
        <p className="brand">Hangar</p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <h1>Environments</h1>
        <CreateEnvironmentForm {...create} />
        <section aria-label="Your environments">
          {actionError ? (
            <p className="error" role="alert">
              {actionError}
            </p>
          ) : null}
          <EnvironmentList {...list} />
        </section>
      </main>
    </>
  );
}
