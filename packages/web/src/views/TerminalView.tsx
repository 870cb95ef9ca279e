import type { ReactNode, Ref } from 'react';
import { leaveKeyLabel } from '../terminal/keys.js';
import type { TerminalState } from '../terminal/terminal-connection.js';
import { ErrorNote } from './common.js';

/** The terminal section: not opened yet, not possible now, or a connection's state. */
export type TerminalViewState =
  { kind: 'idle' } | { kind: 'unavailable'; reason: string } | TerminalState;

export interface TerminalViewProps {
  state: TerminalViewState;
  /** The terminal itself, while one is open. */
  children?: ReactNode;
  /** Where focus goes when it leaves the terminal. */
  toolbarRef?: Ref<HTMLDivElement>;
  /** The terminal keeps its lines as text a screen reader can read. */
  screenReader: boolean;
  onScreenReader: (on: boolean) => void;
  onOpen: () => void;
  onReattach: () => void;
  onClose: () => void;
}

/** A shell in the environment, in the page; with what is happening to its connection. */
export function TerminalView({
  state,
  children,
  toolbarRef,
  screenReader,
  onScreenReader,
  ...actions
}: TerminalViewProps) {
  return (
    <section aria-labelledby="terminal-title">
      <h2 id="terminal-title">Terminal</h2>
      {state.kind === 'unavailable' ? (
        <p>{state.reason}</p>
      ) : (
        <>
          <p className="note" id="terminal-keys">
            While the terminal has focus, every key goes to the shell, Tab included. Press{' '}
            <kbd>{leaveKeyLabel}</kbd> to move focus out of it, to the buttons below it.
          </p>
          <Status state={state} />
          {children}
          <div className="actions" ref={toolbarRef} role="group" aria-label="Terminal">
            <Buttons state={state} {...actions} />{' '}
            <input
              id="terminal-screen-reader"
              type="checkbox"
              checked={screenReader}
              onChange={(event) => onScreenReader(event.currentTarget.checked)}
            />{' '}
            <label htmlFor="terminal-screen-reader">
              Screen reader mode (the terminal's lines as text to read)
            </label>
          </div>
        </>
      )}
    </section>
  );
}

function Status({ state }: { state: TerminalViewState }) {
  switch (state.kind) {
    case 'failed':
      return <ErrorNote>The terminal stopped: {state.message}</ErrorNote>;
    case 'idle':
    case 'unavailable':
      return null;
    default:
      return (
        <p role="status" className="terminal-status" data-terminal-state={state.kind}>
          {statusText(state)}
        </p>
      );
  }
}

/** In words, for the status line that is announced as it changes. */
export function statusText(state: TerminalState): string {
  switch (state.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'ready':
      if (!state.reattached) return 'Connected.';
      return state.lostBytes > 0
        ? `Reattached; ${state.lostBytes} bytes of output from while it was away were lost.`
        : 'Reattached; nothing was lost.';
    case 'reconnecting':
      return `Connection lost (${state.reason}); reattaching, attempt ${state.attempt}…`;
    case 'exited':
      return state.signal
        ? `The shell ended by signal ${state.signal}.`
        : `The shell exited with code ${state.exitCode ?? 'unknown'}.`;
    case 'failed':
      return `The terminal stopped: ${state.message}`;
    case 'closed':
      return 'Closed. The shell keeps running for a while; reattach to go on.';
  }
}

function Buttons({
  state,
  onOpen,
  onReattach,
  onClose,
}: Pick<TerminalViewProps, 'state' | 'onOpen' | 'onReattach' | 'onClose'>) {
  const reattachable =
    (state.kind === 'failed' && state.processId !== null) || state.kind === 'closed';
  switch (state.kind) {
    case 'connecting':
    case 'ready':
    case 'reconnecting':
      return (
        <button type="button" onClick={onClose}>
          Close terminal
        </button>
      );
    default:
      return (
        <>
          {reattachable ? (
            <>
              <button type="button" onClick={onReattach}>
                Reattach
              </button>{' '}
            </>
          ) : null}
          <button type="button" onClick={onOpen}>
            {state.kind === 'idle' ? 'Open a terminal' : 'Open a new terminal'}
          </button>
        </>
      );
  }
}
