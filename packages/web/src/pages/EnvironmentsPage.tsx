import { useState } from 'react';
import { useApp } from '../app-context.js';
import { resultOf, type Client, type CreateEnvironmentBody } from '../client.js';
import { useLoad } from '../load.js';
import type { ListState } from '../views/EnvironmentList.js';
import { EnvironmentsView } from '../views/EnvironmentsView.js';

/** How often the list is read again, so phases change on the page without a reload. */
export const environmentsPollMs = 2000;

/** The environments page: the list with live phases, create, stop, start and delete. */
export function EnvironmentsPage() {
  const { client } = useApp();
  const { state, reload } = useLoad(
    () => resultOf(client.GET('/v1/environments')),
    'environments',
    environmentsPollMs,
  );
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [create, setCreate] = useState({
    busy: false,
    error: null as string | null,
    resetKey: 0,
  });

  const list: ListState =
    state.kind === 'ready' ? { kind: 'ready', environments: state.data.environments } : state;

  const act = async (run: (client: Client) => Promise<{ error?: unknown; response: Response }>) => {
    setActionError(null);
    const result = await resultOf(run(client));
    if (!result.ok) setActionError(result.message);
    await reload();
  };
  const path = (id: string) => ({ params: { path: { id } } });

  const onCreate = async (body: CreateEnvironmentBody) => {
    setCreate((now) => ({ ...now, busy: true, error: null }));
    const result = await resultOf(client.POST('/v1/environments', { body }));
    setCreate((now) => ({
      busy: false,
      error: result.ok ? null : result.message,
      resetKey: result.ok ? now.resetKey + 1 : now.resetKey,
    }));
    await reload();
  };

  return (
    <EnvironmentsView
      list={list}
      confirmingDelete={confirmingDelete}
      actionError={actionError}
      create={{ ...create, onCreate: (body) => void onCreate(body) }}
      onStart={(id) => void act((c) => c.POST('/v1/environments/{id}/start', path(id)))}
      onStop={(id) => void act((c) => c.POST('/v1/environments/{id}/stop', path(id)))}
      onAskDelete={setConfirmingDelete}
      onCancelDelete={() => setConfirmingDelete(null)}
      onConfirmDelete={(id) => {
        setConfirmingDelete(null);
        void act((c) => c.DELETE('/v1/environments/{id}', path(id)));
      }}
    />
  );
}
