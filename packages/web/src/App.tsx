import { useCallback, useEffect, useMemo, useState } from 'react';
import { clientFor, messageOf, type Client, type CreateEnvironmentBody } from './client.js';
import { forgetToken, saveToken, savedToken } from './session.js';
import type { ListState } from './views/EnvironmentList.js';
import { EnvironmentsView } from './views/EnvironmentsView.js';
import { SignInView } from './views/SignInView.js';

const pollIntervalMs = 2000;

export function App() {
  const [token, setToken] = useState(savedToken);
  const [signIn, setSignIn] = useState({ busy: false, error: null as string | null });

  const trySignIn = async (candidate: string) => {
    setSignIn({ busy: true, error: null });
    const { error, response } = await clientFor(candidate, location.origin).GET('/v1/environments');
    if (response.ok) {
      saveToken(candidate);
      setToken(candidate);
      setSignIn({ busy: false, error: null });
    } else {
      setSignIn({ busy: false, error: `The token was refused: ${messageOf(error, response)}` });
    }
  };
  const signOut = () => {
    forgetToken();
    setToken(null);
  };

  if (!token) {
    return <SignInView {...signIn} onSignIn={(candidate) => void trySignIn(candidate)} />;
  }
  return <EnvironmentsPage token={token} onSignOut={signOut} />;
}

function EnvironmentsPage({ token, onSignOut }: { token: string; onSignOut: () => void }) {
  const client = useMemo(() => clientFor(token, location.origin), [token]);
  const [list, setList] = useState<ListState>({ kind: 'loading' });
  const [confirmingDelete, setConfirmingDelete] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [create, setCreate] = useState({ busy: false, error: null as string | null });

  const refresh = useCallback(async () => {
    const { data, error, response } = await client.GET('/v1/environments').catch(() => ({
      data: undefined,
      error: undefined,
      response: new Response(null, { status: 503, statusText: 'control plane unreachable' }),
    }));
    if (data) setList({ kind: 'ready', environments: data.environments });
    else setList({ kind: 'error', message: messageOf(error, response) });
  }, [client]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), pollIntervalMs);
    return () => clearInterval(timer);
  }, [refresh]);

  const act = async (run: (client: Client) => Promise<{ error?: unknown; response: Response }>) => {
    setActionError(null);
    const { error, response } = await run(client);
    if (!response.ok) setActionError(messageOf(error, response));
    await refresh();
  };
  const path = (id: string) => ({ params: { path: { id } } });

  const onCreate = async (body: CreateEnvironmentBody) => {
    setCreate({ busy: true, error: null });
    const { error, response } = await client.POST('/v1/environments', { body });
    setCreate({ busy: false, error: response.ok ? null : messageOf(error, response) });
    await refresh();
  };

  return (
    <EnvironmentsView
      list={list}
      confirmingDelete={confirmingDelete}
      actionError={actionError}
      create={{ ...create, onCreate: (body) => void onCreate(body) }}
      onSignOut={onSignOut}
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
