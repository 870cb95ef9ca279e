import type { Environment } from '../client.js';
import type { LoadState } from '../load.js';
import { Link } from '../router.js';
import { ErrorNote, Loaded } from './common.js';
import { ConfirmDelete } from './ConfirmDelete.js';
import { FailureSummary } from './FailureSummary.js';

export interface EnvironmentActionsProps {
  confirmingDelete: boolean;
  /** An action was sent and has not been answered yet. */
  busy: boolean;
  onStart: () => void;
  onStop: () => void;
  onAskDelete: () => void;
  onCancelDelete: () => void;
  onConfirmDelete: () => void;
}

export interface EnvironmentHeaderProps extends EnvironmentActionsProps {
  environment: LoadState<Environment>;
  /** The signed-in user, to say "you" for the owner. */
  userId: string;
  actionError: string | null;
  /** Why live updates are failing or stopped; the phase shown may be old. */
  watchProblem: string | null;
}

/** The top of an environment's page: what it is, its live phase, its actions, its failure. */
export function EnvironmentHeader({ environment, ...rest }: EnvironmentHeaderProps) {
  if (environment.kind === 'ready') return <Header environment={environment.data} {...rest} />;
  return (
    <>
      <p className="back">
        <Link href="/">All environments</Link>
      </p>
      <h1>Environment</h1>
      <Loaded state={environment} what="the environment" ready={() => null} />
    </>
  );
}

function Header({
  environment,
  userId,
  actionError,
  watchProblem,
  ...actions
}: Omit<EnvironmentHeaderProps, 'environment'> & { environment: Environment }) {
  const { name, spec, status } = environment;
  return (
    <header className="environment-header">
      <p className="back">
        <Link href="/">All environments</Link>
      </p>
      <h1>{name}</h1>
      <Phase environment={environment} />
      {watchProblem ? <ErrorNote>{watchProblem}</ErrorNote> : null}
      <dl className="facts">
        <dt>Repository</dt>
        <dd>{spec.repository ? <code>{spec.repository.url}</code> : '(none)'}</dd>
        <dt>Ref</dt>
        <dd>{spec.repository?.ref ? <code>{spec.repository.ref}</code> : 'default branch'}</dd>
        <dt>Class</dt>
        <dd>{spec.class}</dd>
        <dt>Owner</dt>
        <dd>
          <code>{environment.ownerId}</code>
          {environment.ownerId === userId ? ' (you)' : ''}
        </dd>
        <dt>Runner</dt>
        <dd>
          <code>{environment.runnerId}</code>
        </dd>
        {spec.devcontainerPath ? (
          <>
            <dt>Dev container</dt>
            <dd>
              <code>{spec.devcontainerPath}</code>
            </dd>
          </>
        ) : null}
        <dt>Id</dt>
        <dd>
          <code>{environment.id}</code>
        </dd>
      </dl>
      {actionError ? <ErrorNote>{actionError}</ErrorNote> : null}
      <Actions environment={environment} {...actions} />
      {status.failure ? <Failure failure={status.failure} /> : null}
    </header>
  );
}

/** Announced politely whenever it changes, so a phase change is heard without a reload. */
function Phase({ environment }: { environment: Environment }) {
  const { spec, status } = environment;
  const running = status.steps.findLast((step) => step.state === 'running');
  const moving = spec.desiredPhase !== status.phase && status.phase !== 'failed';
  return (
    <p className="phase-line" role="status">
      Phase:{' '}
      <span className={`phase phase-${status.phase}`} data-phase={status.phase}>
        {status.phase}
      </span>
      {moving ? <span className="desired"> (to {spec.desiredPhase})</span> : null}
      {running ? (
        <span className="step" data-step={running.name}>
          {' '}
          — running {running.name}
        </span>
      ) : null}
    </p>
  );
}

function Failure({ failure }: { failure: NonNullable<Environment['status']['failure']> }) {
  return (
    <section className="failure" aria-labelledby="failure-title">
      <h2 id="failure-title">Why it failed</h2>
      <p>
        <FailureSummary failure={failure} />
      </p>
      <pre>{failure.message}</pre>
    </section>
  );
}

function Actions({
  environment,
  confirmingDelete,
  busy,
  onStart,
  onStop,
  onAskDelete,
  onCancelDelete,
  onConfirmDelete,
}: EnvironmentActionsProps & { environment: Environment }) {
  const { name, spec, status } = environment;
  if (status.phase === 'deleted') return <p>This environment was deleted, with its workspace.</p>;
  if (spec.desiredPhase === 'deleted') {
    return <p>This environment is being deleted, with its workspace.</p>;
  }
  if (confirmingDelete) {
    return (
      <ConfirmDelete
        name={name}
        question={<span>Delete {name} and its workspace? This cannot be undone.</span>}
        busy={busy}
        className="actions"
        onConfirm={onConfirmDelete}
        onCancel={onCancelDelete}
      />
    );
  }
  return (
    <div className="actions">
      {spec.desiredPhase === 'running' ? (
        <button type="button" disabled={busy} onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="button" disabled={busy} onClick={onStart}>
          Start
        </button>
      )}{' '}
      <button type="button" disabled={busy} onClick={onAskDelete}>
        Delete
      </button>
    </div>
  );
}
