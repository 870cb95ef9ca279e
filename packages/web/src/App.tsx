import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { AppContext } from './app-context.js';
import { clientFor, type Client, type Result, type WebSession } from './client.js';
import { AgentPage } from './pages/AgentPage.js';
import { AgentsPage } from './pages/AgentsPage.js';
import { AuditPage } from './pages/AuditPage.js';
import { EnvironmentPage } from './pages/EnvironmentPage.js';
import { EnvironmentsPage } from './pages/EnvironmentsPage.js';
import { OrgPage } from './pages/OrgPage.js';
import { RunnersPage } from './pages/RunnersPage.js';
import { navigate, routeOf, usePath, type Route } from './router.js';
import {
  currentSession,
  finishProviderSignIn,
  signInWithToken,
  signOut,
  startProviderSignIn,
} from './session.js';
import { homeOf, Layout } from './views/Layout.js';
import { Loading } from './views/common.js';
import { SignInView } from './views/SignInView.js';

type SessionState =
  | { kind: 'checking' }
  | { kind: 'signed-out'; busy: boolean; error: string | null }
  | { kind: 'signed-in'; session: WebSession };

const signedOut = (error: string | null = null): SessionState => ({
  kind: 'signed-out',
  busy: false,
  error,
});

/** The page asked for before signing in, shown once signed in (a deep link survives sign-in). */
function landingFor(asked: string, session: WebSession): string {
  const route = routeOf(asked);
  const open = route.page !== 'sign-in-callback' && route.page !== 'not-found' && asked !== '/';
  return open ? asked : homeOf(session);
}

/** An API message as the start of a sentence. */
function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

export function App() {
  const path = usePath();
  const asked = useRef(location.pathname);
  const [state, setState] = useState<SessionState>({ kind: 'checking' });
  const csrf = useRef<string | undefined>(undefined);
  const client = useMemo(() => clientFor(location.origin, () => csrf.current), []);

  const accept = useCallback((result: Result<WebSession>, landing?: string) => {
    if (!result.ok) {
      csrf.current = undefined;
      setState(signedOut(result.status === 401 ? null : result.message));
      return;
    }
    csrf.current = result.data.csrfToken;
    setState({ kind: 'signed-in', session: result.data });
    if (landing) navigate(landing, { replace: true });
  }, []);

  useEffect(() => {
    if (routeOf(location.pathname).page === 'sign-in-callback') {
      void finishProviderSignIn(client, location.search).then((result) => {
        if (result.ok) accept(result, homeOf(result.data));
        else {
          navigate('/', { replace: true });
          setState(signedOut(result.message));
        }
      });
    } else {
      void currentSession(client).then((result) => accept(result));
    }
    // A request refused for want of a session (expired, signed out elsewhere) ends this one.
    client.use({
      onResponse({ response, request }) {
        if (response.status === 401 && !request.url.endsWith('/v1/auth/web-session')) {
          csrf.current = undefined;
          setState(signedOut('Your session has ended; sign in again.'));
        }
        return response;
      },
    });
  }, [client, accept]);

  if (state.kind === 'checking') return <Loading what="your session" />;
  if (state.kind === 'signed-out') {
    const busy = () => setState({ kind: 'signed-out', busy: true, error: null });
    return (
      <SignInView
        busy={state.busy}
        error={state.error}
        onToken={(token) => {
          busy();
          void signInWithToken(client, token).then((result) =>
            result.ok
              ? accept(result, landingFor(asked.current, result.data))
              : setState(signedOut(sentence(result.message))),
          );
        }}
        onProvider={(org) => {
          busy();
          void startProviderSignIn(client, org).then((result) => {
            if (result.ok) location.assign(result.data.authorizationUrl);
            else setState(signedOut(`Single sign-on could not start: ${result.message}`));
          });
        }}
      />
    );
  }
  const { session } = state;
  return (
    <AppContext.Provider value={{ client, session }}>
      <Layout
        role={session.role}
        scopes={session.scopes}
        userId={session.userId}
        current={path}
        onSignOut={() => void endSession(client).then(() => accept(notSignedIn))}
      >
        <Page route={routeOf(path)} />
      </Layout>
    </AppContext.Provider>
  );
}

const notSignedIn: Result<WebSession> = { ok: false, message: '', status: 401 };

async function endSession(client: Client): Promise<void> {
  await signOut(client);
  navigate('/', { replace: true });
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'environments':
    case 'sign-in-callback':
      return <EnvironmentsPage />;
    case 'environment':
      return <EnvironmentPage id={route.id} />;
    case 'agents':
      return <AgentsPage />;
    case 'agent':
      return <AgentPage id={route.id} />;
    case 'audit':
      return <AuditPage />;
    case 'runners':
      return <RunnersPage />;
    case 'org':
      return <OrgPage />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>No page of the dashboard is at {route.path}.</p>
        </>
      );
  }
}
