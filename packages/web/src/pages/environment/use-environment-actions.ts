import { useState } from 'react';
import { resultOf, type Client, type Environment } from '../../client.js';
import type { EnvironmentActionsProps } from '../../views/EnvironmentHeader.js';

type Answer = Promise<{ data?: Environment; error?: unknown; response: Response }>;

/** Stop, start and delete (after a confirmation), each showing the environment it returns. */
export function useEnvironmentActions(
  client: Client,
  id: string,
  accept: (environment: Environment) => void,
): EnvironmentActionsProps & { actionError: string | null } {
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const path = { params: { path: { id } } };

  const act = async (call: () => Answer) => {
    setBusy(true);
    setActionError(null);
    const result = await resultOf(call());
    setBusy(false);
    if (result.ok) accept(result.data);
    else setActionError(result.message);
  };

  return {
    confirmingDelete,
    busy,
    actionError,
    onStart: () => void act(() => client.POST('/v1/environments/{id}/start', path)),
    onStop: () => void act(() => client.POST('/v1/environments/{id}/stop', path)),
    onAskDelete: () => setConfirmingDelete(true),
    onCancelDelete: () => setConfirmingDelete(false),
    onConfirmDelete: () => {
      setConfirmingDelete(false);
      void act(() => client.DELETE('/v1/environments/{id}', path));
    },
  };
}
