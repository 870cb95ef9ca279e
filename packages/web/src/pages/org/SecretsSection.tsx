import { useMemo, useState } from 'react';
import { useApp } from '../../app-context.js';
import { resultOf } from '../../client.js';
import { useLoad, type LoadState } from '../../load.js';
import type { Secret } from '../../org-types.js';
import { indexedDbKeyStore } from '../../secrets/key-store.js';
import { setSecret, type SecretRequest, type SetSecretOutcome } from '../../secrets/set-secret.js';
import { SecretsView } from '../../views/org/SecretsView.js';
import { scopeName } from '../../views/org/secret-text.js';

/** Secrets: listed (never a value), deleted, and set with the value sealed in this browser. */
export function SecretsSection() {
  const { client, session } = useApp();
  const store = useMemo(() => indexedDbKeyStore(), []);
  const { state, reload } = useLoad(() => resultOf(client.GET('/v1/secrets')), 'secrets');
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<SetSecretOutcome | null>(null);
  const [formKey, setFormKey] = useState(0);

  const secrets: LoadState<Secret[]> =
    state.kind === 'ready' ? { kind: 'ready', data: state.data.secrets } : state;

  const onSet = async (request: SecretRequest) => {
    setBusy(true);
    setOutcome(null);
    const user = { orgId: session.orgId, userId: session.userId };
    try {
      const result = await setSecret({ client, store, user }, request);
      setOutcome(result);
      if (result.kind === 'sealed') setFormKey((key) => key + 1);
    } catch (error) {
      // WebCrypto or IndexedDB refusing (an old browser, a private window without storage).
      const detail = error instanceof Error ? error.message : String(error);
      setOutcome({ kind: 'refused', message: `this browser could not seal it (${detail})` });
    } finally {
      request.value.fill(0);
      setBusy(false);
    }
    await reload();
  };

  const onConfirmDelete = async (id: string) => {
    setConfirmingDelete(null);
    const result = await resultOf(client.DELETE('/v1/secrets/{id}', { params: { path: { id } } }));
    setActionError(result.ok ? null : result.message);
    setNotice(result.ok ? `Deleted ${scopeName(result.data)} secret ${result.data.name}.` : null);
    await reload();
  };

  return (
    <SecretsView
      secrets={secrets}
      set={{ busy, outcome, formKey, onSet: (request) => void onSet(request) }}
      confirmingDelete={confirmingDelete}
      actionError={actionError}
      notice={notice}
      onAskDelete={setConfirmingDelete}
      onCancelDelete={() => setConfirmingDelete(null)}
      onConfirmDelete={(id) => void onConfirmDelete(id)}
    />
  );
}
