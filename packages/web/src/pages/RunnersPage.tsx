import { useState } from 'react';
import { useApp } from '../app-context.js';
import { resultOf, type Result } from '../client.js';
import { useLoad, type LoadState } from '../load.js';
import { runnerManagers, type CreatedRunner, type Runner } from '../runners.js';
import type { PendingConfirmation } from '../views/RunnerList.js';
import { RunnersView } from '../views/RunnersView.js';

/** How often the list is read again, so a runner's state and last contact stay current. */
export const runnersPollMs = 3000;

/**
 * The runners page. A new runner's enrollment token lives only in this component's state: it is
 * gone when the reader dismisses it or leaves the page, and is never stored or put in the URL.
 */
export function RunnersPage() {
  const { client, session } = useApp();
  const { state, reload } = useLoad(
    () => resultOf(client.GET('/v1/runners')),
    'runners',
    runnersPollMs,
  );
  const [created, setCreated] = useState<CreatedRunner | null>(null);
  const [create, setCreate] = useState({ busy: false, error: null as string | null });
  const [confirming, setConfirming] = useState<PendingConfirmation | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const list: LoadState<Runner[]> =
    state.kind === 'ready' ? { kind: 'ready', data: state.data.runners } : state;
  const path = (id: string) => ({ params: { path: { id } } });
  const act = async (call: Promise<Result<Runner>>) => {
    setActionError(null);
    const result = await call;
    if (!result.ok) setActionError(result.message);
    await reload();
  };
  const onCreate = async (name: string) => {
    setCreate({ busy: true, error: null });
    const result = await resultOf(client.POST('/v1/runners', { body: { name } }));
    setCreate({ busy: false, error: result.ok ? null : result.message });
    if (result.ok) setCreated(result.data);
    await reload();
  };

  return (
    <RunnersView
      list={list}
      canManage={runnerManagers.includes(session.role)}
      confirming={confirming}
      actionError={actionError}
      created={created}
      controlPlaneUrl={location.origin}
      onDismissCreated={() => setCreated(null)}
      create={{ ...create, onCreate: (name) => void onCreate(name) }}
      onAsk={setConfirming}
      onCancel={() => setConfirming(null)}
      onConfirm={({ id, action }) => {
        setConfirming(null);
        const route =
          action === 'disable' ? '/v1/runners/{id}/disable' : '/v1/runners/{id}/rotate-key';
        void act(resultOf(client.POST(route, path(id))));
      }}
      onEnable={(id) => void act(resultOf(client.POST('/v1/runners/{id}/enable', path(id))))}
    />
  );
}
