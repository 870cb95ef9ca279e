import { useId, useState, type FormEvent } from 'react';
import type { SecretDelivery, SecretScope } from '../../org-types.js';
import type { SecretRequest, SetSecretOutcome } from '../../secrets/set-secret.js';
import { ErrorNote } from '../common.js';
import { SealOutcome } from './SealOutcome.js';
import { secretRequestOf } from './secret-request.js';
import { deliveryText, scopeText } from './secret-text.js';

export interface SetSecretFormProps {
  busy: boolean;
  outcome: SetSecretOutcome | null;
  /** Changes after each secret set, so the form (and the value in it) starts empty again. */
  formKey: number;
  onSet: (request: SecretRequest) => void;
}

const targetLabels: Record<SecretDelivery, string> = {
  env: 'Variable name (empty: the secret name)',
  file: 'File path (org and project files under /run/secrets/)',
  git: 'Git host ([user@]host[:port])',
  model: 'Model key (used by the runner, never put in an environment)',
};

/**
 * Sets a secret. The value is sealed in this browser, with WebCrypto, to the encryption key of
 * each runner that may use it, and signed with the user's own key; only ciphertexts go to the
 * control plane.
 */
export function SetSecretForm({ busy, outcome, formKey, onSet }: SetSecretFormProps) {
  const id = useId();
  const [scope, setScope] = useState<SecretScope>('user');
  const [delivery, setDelivery] = useState<SecretDelivery>('env');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const read = secretRequestOf(new FormData(event.currentTarget));
    setProblem(read.ok ? null : read.message);
    if (read.ok) onSet(read.request);
  };
  const field = (name: string) => `${id}-${name}`;
  return (
    <form
      key={formKey}
      className="set-secret"
      onSubmit={submit}
      aria-labelledby={field('title')}
      autoComplete="off"
    >
      <h3 id={field('title')}>Set a secret</h3>
      <p className="hint">
        The value is encrypted in this browser to the runners&apos; keys before it leaves the page;
        the control plane stores only ciphertexts it cannot open. Environments get it at their next
        start.
      </p>
      <label htmlFor={field('name')}>Name</label>
      <input id={field('name')} name="name" type="text" required spellCheck={false} />
      <label htmlFor={field('scope')}>Scope</label>
      <select
        id={field('scope')}
        name="scope"
        value={scope}
        onChange={(event) => setScope(event.currentTarget.value as SecretScope)}
      >
        {(Object.keys(scopeText) as SecretScope[]).map((item) => (
          <option key={item} value={item}>
            {scopeText[item]}
          </option>
        ))}
      </select>
      {scope === 'project' ? (
        <>
          <label htmlFor={field('project')}>Project</label>
          <input id={field('project')} name="project" type="text" required />
        </>
      ) : null}
      <label htmlFor={field('delivery')}>Delivered as</label>
      <select
        id={field('delivery')}
        name="delivery"
        value={delivery}
        onChange={(event) => setDelivery(event.currentTarget.value as SecretDelivery)}
      >
        {(Object.keys(deliveryText) as SecretDelivery[]).map((item) => (
          <option key={item} value={item}>
            {deliveryText[item]}
          </option>
        ))}
      </select>
      {delivery === 'model' ? (
        <p className="hint">{targetLabels.model}</p>
      ) : (
        <>
          <label htmlFor={field('target')}>{targetLabels[delivery]}</label>
          <input id={field('target')} name="target" type="text" spellCheck={false} />
        </>
      )}
      <label htmlFor={field('value')}>Value</label>
      {delivery === 'file' ? (
        <textarea id={field('value')} name="value" rows={4} spellCheck={false} />
      ) : (
        <input id={field('value')} name="value" type="password" autoComplete="off" />
      )}
      {outcome?.kind === 'key-changed'
        ? outcome.changed.map((item) => (
            <div className="check" key={item.runnerId}>
              <input
                id={field(`accept-${item.runnerId}`)}
                name="acceptRunnerKey"
                type="checkbox"
                value={item.runnerId}
              />
              <label htmlFor={field(`accept-${item.runnerId}`)}>
                I compared it: seal to the new key {item.offered} of runner {item.name}
              </label>
            </div>
          ))
        : null}
      <button type="submit" disabled={busy}>
        {busy ? 'Sealing…' : 'Seal and set secret'}
      </button>
      {problem ? <ErrorNote>{problem}</ErrorNote> : null}
      {outcome ? <SealOutcome outcome={outcome} /> : null}
    </form>
  );
}
