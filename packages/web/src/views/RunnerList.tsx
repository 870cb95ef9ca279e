import type { LoadState } from '../load.js';
import type { Runner } from '../runners.js';
import { Loaded, Time } from './common.js';

/** A runner action that asks first: disabling cuts the runner off, rotating replaces its key. */
export interface PendingConfirmation {
  id: string;
  action: 'disable' | 'rotate';
}

export interface RunnerActions {
  onAsk: (confirmation: PendingConfirmation) => void;
  onCancel: () => void;
  onConfirm: (confirmation: PendingConfirmation) => void;
  onEnable: (id: string) => void;
}

export interface RunnerListProps extends RunnerActions {
  list: LoadState<Runner[]>;
  canManage: boolean;
  confirming: PendingConfirmation | null;
}

/** The organization's runners: state, last contact, key, environments, and what may be done. */
export function RunnerList({ list, ...rest }: RunnerListProps) {
  return (
    <Loaded
      state={list}
      what="runners"
      ready={(runners) =>
        runners.length === 0 ? (
          <p role="status">No runners yet.{rest.canManage ? ' Create one with the form.' : ''}</p>
        ) : (
          <div className="table-scroll">
            <table className="runners">
              <caption>Runners</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Key fingerprint</th>
                  <th scope="col">Environments</th>
                  {rest.canManage ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {runners.map((runner) => (
                  <RunnerRow key={runner.id} runner={runner} {...rest} />
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    />
  );
}

function RunnerRow({
  runner,
  canManage,
  confirming,
  ...actions
}: Omit<RunnerListProps, 'list'> & { runner: Runner }) {
  return (
    <tr data-runner={runner.name}>
      <th scope="row">
        {runner.name}
        <br />
        <code className="id">{runner.id}</code>
      </th>
      <td>
        <span className={`runner-state state-${runner.state}`} data-state={runner.state}>
          {runner.state}
        </span>
        {runner.disabledAt ? (
          <>
            {' '}
            since <Time at={runner.disabledAt} />
          </>
        ) : null}
      </td>
      <td>
        <Time at={runner.lastSeenAt} />
      </td>
      <td>
        <KeyCell runner={runner} />
      </td>
      <td data-environments={runner.environmentCount}>
        {runner.environmentCount ?? <span title="not shown to your role">—</span>}
      </td>
      {canManage ? (
        <td>
          <RowActions
            runner={runner}
            confirming={confirming?.id === runner.id ? confirming : null}
            {...actions}
          />
        </td>
      ) : null}
    </tr>
  );
}

function KeyCell({ runner }: { runner: Runner }) {
  if (!runner.publicKeyFingerprint) return <span>none yet (not enrolled)</span>;
  return (
    <>
      <code className="fingerprint">{runner.publicKeyFingerprint}</code>
      {runner.keyRotationRequestedAt ? (
        <p className="note">
          Rotation requested <Time at={runner.keyRotationRequestedAt} />; the runner replaces its
          key when it next connects.
        </p>
      ) : null}
    </>
  );
}

const confirmText = {
  disable: {
    question: (name: string) => `Disable ${name}? Its connection is closed now and refused.`,
    yes: (name: string) => `Yes, disable ${name}`,
  },
  rotate: {
    question: (name: string) => `Have ${name} replace its key pair on its connection?`,
    yes: (name: string) => `Yes, rotate the key of ${name}`,
  },
};

function RowActions({
  runner,
  confirming,
  onAsk,
  onCancel,
  onConfirm,
  onEnable,
}: RunnerActions & { runner: Runner; confirming: PendingConfirmation | null }) {
  const { id, name } = runner;
  if (confirming) {
    const text = confirmText[confirming.action];
    return (
      <div role="group" aria-label={`Confirm for ${name}`}>
        <span>{text.question(name)}</span>{' '}
        <button type="button" className="danger" onClick={() => onConfirm(confirming)}>
          {text.yes(name)}
        </button>{' '}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    );
  }
  const canRotate =
    runner.publicKeyFingerprint !== undefined &&
    runner.state !== 'disabled' &&
    runner.keyRotationRequestedAt === undefined;
  return (
    <div className="actions">
      {runner.state === 'disabled' ? (
        <button type="button" onClick={() => onEnable(id)}>
          Enable <span className="visually-hidden">{name}</span>
        </button>
      ) : (
        <button type="button" onClick={() => onAsk({ id, action: 'disable' })}>
          Disable <span className="visually-hidden">{name}</span>
        </button>
      )}
      {canRotate ? (
        <>
          {' '}
          <button type="button" onClick={() => onAsk({ id, action: 'rotate' })}>
            Rotate key <span className="visually-hidden">of {name}</span>
          </button>
        </>
      ) : null}
    </div>
  );
}
