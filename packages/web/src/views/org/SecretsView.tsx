import type { LoadState } from '../../load.js';
import type { Secret } from '../../org-types.js';
import { ErrorNote, Loaded, Time } from '../common.js';
import { ConfirmDelete } from '../ConfirmDelete.js';
import { deliveryText, scopeName } from './secret-text.js';
import { SetSecretForm, type SetSecretFormProps } from './SetSecretForm.js';

export interface SecretActions {
  onAskDelete: (id: string) => void;
  onCancelDelete: () => void;
  onConfirmDelete: (id: string) => void;
}

export interface SecretsViewProps extends SecretActions {
  secrets: LoadState<Secret[]>;
  set: SetSecretFormProps;
  confirmingDelete: string | null;
  actionError: string | null;
  notice: string | null;
}

/** The secrets section: what is set (never a value), delete, and set one sealed here. */
export function SecretsView({ secrets, set, actionError, notice, ...rest }: SecretsViewProps) {
  return (
    <section id="secrets" aria-labelledby="secrets-title">
      <h2 id="secrets-title">Secrets</h2>
      <Loaded
        state={secrets}
        what="secrets"
        ready={(list) => (
          <>
            {notice ? <p role="status">{notice}</p> : null}
            {actionError ? <ErrorNote>{actionError}</ErrorNote> : null}
            <SecretTable secrets={list} {...rest} />
            <SetSecretForm {...set} />
          </>
        )}
      />
    </section>
  );
}

type TableProps = SecretActions & { secrets: Secret[]; confirmingDelete: string | null };

function SecretTable({ secrets, ...rest }: TableProps) {
  if (secrets.length === 0) {
    return (
      <p role="status">
        No secrets yet: none of the organization&apos;s or its projects&apos;, and none of yours.
      </p>
    );
  }
  return (
    <div className="table-scroll">
      <table className="secrets">
        <caption>Secrets you can see (values are never shown)</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scope</th>
            <th scope="col">Delivered as</th>
            <th scope="col">Target</th>
            <th scope="col">Version</th>
            <th scope="col">Author</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {secrets.map((secret) => (
            <SecretRow key={secret.id} secret={secret} {...rest} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SecretRow({
  secret,
  confirmingDelete,
  ...actions
}: Omit<TableProps, 'secrets'> & { secret: Secret }) {
  const label = `${scopeName(secret)} secret ${secret.name}`;
  return (
    <tr data-secret={secret.name}>
      <th scope="row">
        <code>{secret.name}</code>
      </th>
      <td>{scopeName(secret)}</td>
      <td>{deliveryText[secret.delivery]}</td>
      <td>
        <code>{secret.target}</code>
      </td>
      <td>{secret.version}</td>
      <td>
        <code>{secret.authorId}</code>
      </td>
      <td>
        <Time at={secret.updatedAt} />
      </td>
      <td>
        {confirmingDelete === secret.id ? (
          <ConfirmDelete
            name={label}
            question={<p>Delete {label}? Environments no longer get it from their next start.</p>}
            className="confirm"
            onConfirm={() => actions.onConfirmDelete(secret.id)}
            onCancel={actions.onCancelDelete}
          />
        ) : (
          <button type="button" onClick={() => actions.onAskDelete(secret.id)}>
            Delete <span className="visually-hidden">{label}</span>
          </button>
        )}
      </td>
    </tr>
  );
}
