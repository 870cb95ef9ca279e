import { CreateEnvironmentForm, type CreateEnvironmentFormProps } from './CreateEnvironmentForm.js';
import { EnvironmentList, type EnvironmentListProps } from './EnvironmentList.js';

export interface EnvironmentsViewProps extends EnvironmentListProps {
  create: CreateEnvironmentFormProps;
  actionError: string | null;
}

/** The environments page: the create form, then the list with each one's live phase. */
export function EnvironmentsView({ create, actionError, ...list }: EnvironmentsViewProps) {
  return (
    <>
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
    </>
  );
}
