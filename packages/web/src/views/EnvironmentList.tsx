import type { Environment } from '../client.js';
import { Link } from '../router.js';
import { ConfirmDelete } from './ConfirmDelete.js';
import { FailureSummary } from './FailureSummary.js';

export type ListState =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; environments: Environment[] };

export interface EnvironmentActions {
  onStart: (id: string) => void;
  onStop: (id: string) => void;
  onAskDelete: (id: string) => void;
  onCancelDelete: () => void;
  onConfirmDelete: (id: string) => void;
}

export interface EnvironmentListProps extends EnvironmentActions {
  list: ListState;
  confirmingDelete: string | null;
}

export function EnvironmentList({ list, ...rest }: EnvironmentListProps) {
  if (list.kind === 'loading') return <p role="status">Loading environments…</p>;
  if (list.kind === 'error') {
    return (
      <p className="error" role="alert">
        Could not load environments: {list.message}
      </p>
    );
  }
  if (list.environments.length === 0) {
    return <p role="status">No environments yet. Create one with the form above.</p>;
  }
  return (
    <table className="environments">
      <caption>Environments</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Repository</th>
          <th scope="col">Class</th>
          <th scope="col">Phase</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {list.environments.map((environment) => (
          <EnvironmentRow key={environment.id} environment={environment} {...rest} />
        ))}
      </tbody>
    </table>
  );
}

function EnvironmentRow({
  environment,
  confirmingDelete,
  ...actions
}: EnvironmentActions & { environment: Environment; confirmingDelete: string | null }) {
  const { id, name, spec, status } = environment;
  const repository = spec.repository
    ? `${spec.repository.url}${spec.repository.ref ? ` @ ${spec.repository.ref}` : ''}`
    : '(none)';
  return (
    <tr data-environment={name}>
      <th scope="row">
        <Link href={`/environments/${id}`}>{name}</Link>
      </th>
      <td>{repository}</td>
      <td>{spec.class}</td>
      <td>
        <span className={`phase phase-${status.phase}`} data-phase={status.phase}>
          {status.phase}
        </span>
        {spec.desiredPhase !== status.phase && status.phase !== 'failed' ? (
          <span className="desired"> (to {spec.desiredPhase})</span>
        ) : null}
        <CurrentStep steps={status.steps} />
        {status.failure ? <FailureReason failure={status.failure} /> : null}
      </td>
      <td>
        <RowActions environment={environment} confirming={confirmingDelete === id} {...actions} />
      </td>
    </tr>
  );
}

/** The lifecycle step running now, so a create shows each step as it happens. */
function CurrentStep({ steps }: { steps: Environment['status']['steps'] }) {
  const running = steps.findLast((step) => step.state === 'running');
  if (!running) return null;
  return (
    <span className="step" data-step={running.name}>
      {' '}
      — {running.name}
    </span>
  );
}

function FailureReason({ failure }: { failure: NonNullable<Environment['status']['failure']> }) {
  return (
    <div className="failure">
      <p>
        Failed: <FailureSummary failure={failure} />
      </p>
      <pre>{failure.message}</pre>
    </div>
  );
}

function RowActions({
  environment,
  confirming,
  onStart,
  onStop,
  onAskDelete,
  onCancelDelete,
  onConfirmDelete,
}: EnvironmentActions & { environment: Environment; confirming: boolean }) {
  const { id, name, spec } = environment;
  if (spec.desiredPhase === 'deleted') return null;
  if (confirming) {
    return (
      <ConfirmDelete
        name={name}
        question={<span>Delete {name} and its workspace?</span>}
        onConfirm={() => onConfirmDelete(id)}
        onCancel={onCancelDelete}
      />
    );
  }
  return (
    <div className="actions">
      {spec.desiredPhase === 'running' ? (
        <button type="button" onClick={() => onStop(id)}>
          Stop <span className="visually-hidden">{name}</span>
        </button>
      ) : (
        <button type="button" onClick={() => onStart(id)}>
          Start <span className="visually-hidden">{name}</span>
        </button>
      )}{' '}
      <button type="button" onClick={() => onAskDelete(id)}>
        Delete <span className="visually-hidden">{name}</span>
      </button>
    </div>
  );
}
