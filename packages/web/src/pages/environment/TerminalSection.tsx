import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import type { Client, Environment } from '../../client.js';
import type { TerminalState } from '../../terminal/terminal-connection.js';
import { Loading } from '../../views/common.js';
import { TerminalView, type TerminalViewState } from '../../views/TerminalView.js';
import { terminalTarget } from './gateway-calls.js';

// xterm.js and its style sheet load only when a terminal is opened.
const XtermTerminal = lazy(() => import('../../terminal/XtermTerminal.js'));

interface Session {
  /** A new number for each terminal shown, so each gets its own xterm and connection. */
  key: number;
  processId?: string | undefined;
}

/** A shell in the environment: opened, closed, and attached again after a failure. */
export function TerminalSection({
  client,
  environment,
}: {
  client: Client;
  environment: Environment;
}) {
  const { id, status } = environment;
  const [session, setSession] = useState<Session | null>(null);
  const [state, setState] = useState<TerminalViewState>({ kind: 'idle' });
  const [screenReader, setScreenReader] = useState(false);
  const lastProcess = useRef<string | undefined>(undefined);
  const toolbar = useRef<HTMLDivElement>(null);
  const running = status.phase === 'running';

  useEffect(() => {
    if (running) return;
    setSession(null);
    setState({ kind: 'idle' });
  }, [running]);

  if (!running) {
    const reason = `A terminal opens while the environment runs; it is ${status.phase}.`;
    return (
      <TerminalView state={{ kind: 'unavailable', reason }} screenReader={false} {...noActions} />
    );
  }

  const show = (processId?: string) => {
    setState({ kind: 'connecting' });
    setSession((previous) => ({ key: (previous?.key ?? 0) + 1, processId }));
  };
  const onState = (next: TerminalState) => {
    if (next.kind === 'ready') lastProcess.current = next.processId;
    if (next.kind === 'exited') lastProcess.current = undefined;
    setState(next);
  };

  return (
    <TerminalView
      state={state}
      toolbarRef={toolbar}
      screenReader={screenReader}
      onScreenReader={setScreenReader}
      onOpen={() => show()}
      onReattach={() => show(lastProcess.current)}
      onClose={() => {
        setSession(null);
        setState({ kind: 'closed' });
      }}
    >
      {session ? (
        <Suspense fallback={<Loading what="the terminal" />}>
          <XtermTerminal
            key={session.key}
            target={() => terminalTarget(client, id)}
            processId={session.processId}
            screenReaderMode={screenReader}
            onState={onState}
            onLeave={() => toolbar.current?.querySelector('button')?.focus()}
          />
        </Suspense>
      ) : null}
    </TerminalView>
  );
}

const ignore = () => undefined;
const noActions = { onOpen: ignore, onReattach: ignore, onClose: ignore, onScreenReader: ignore };
