import type { CreatedRunner } from '../runners.js';
import { ErrorNote } from './common.js';
import { CreateRunnerForm, type CreateRunnerFormProps } from './CreateRunnerForm.js';
import { EnrollmentNotice } from './EnrollmentNotice.js';
import { RunnerList, type RunnerListProps } from './RunnerList.js';

export interface RunnersViewProps extends RunnerListProps {
  create: CreateRunnerFormProps;
  /** The runner just created, with its token, until the reader dismisses it. */
  created: CreatedRunner | null;
  controlPlaneUrl: string;
  onDismissCreated: () => void;
  actionError: string | null;
}

/** The runners page: a new runner's token (once), the create form, then every runner. */
export function RunnersView({
  create,
  created,
  controlPlaneUrl,
  onDismissCreated,
  actionError,
  ...list
}: RunnersViewProps) {
  return (
    <>
      <h1>Runners</h1>
      {created ? (
        <EnrollmentNotice
          key={`notice-${created.runner.id}`}
          created={created}
          controlPlaneUrl={controlPlaneUrl}
          onDismiss={onDismissCreated}
        />
      ) : null}
      {list.canManage ? (
        // A new runner clears the name field: the form starts afresh after each one. Sibling
        // keys must differ, or React mixes the notice and the form up when either goes.
        <CreateRunnerForm key={`form-${created?.runner.id ?? 'none'}`} {...create} />
      ) : null}
      <section aria-label="The organization's runners">
        {actionError ? <ErrorNote>{actionError}</ErrorNote> : null}
        <RunnerList {...list} />
      </section>
    </>
  );
}
