import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import type { Result } from '../client.js';
import { isLeaveKey } from './keys.js';
import { styleSafeDocument } from './style-safe-document.js';
import {
  TerminalConnection,
  type SocketTarget,
  type TerminalState,
} from './terminal-connection.js';

export interface XtermTerminalProps {
  /** A fresh WebSocket target (with a new grant) for each connection. */
  target: () => Promise<Result<SocketTarget>>;
  /** Attach to this shell instead of opening a new one. */
  processId?: string | undefined;
  /** xterm keeps the screen's lines as a list a screen reader can read. */
  screenReaderMode: boolean;
  onState: (state: TerminalState) => void;
  /** The key that moves focus out of the terminal was pressed. */
  onLeave: () => void;
}

const encoder = new TextEncoder();

/**
 * xterm.js in the page, wired to a shell over the runner's terminal WebSocket: keys go to the
 * shell, output to the screen, the size follows the element. Loaded on demand, so the other
 * pages do not carry xterm.
 */
export default function XtermTerminal({
  target,
  processId,
  screenReaderMode,
  onState,
  onLeave,
}: XtermTerminalProps) {
  const host = useRef<HTMLDivElement>(null);
  const shown = useRef<Terminal | undefined>(undefined);
  const screenReader = useRef(screenReaderMode);
  screenReader.current = screenReaderMode;
  const callbacks = useRef({ target, onState, onLeave });
  callbacks.current = { target, onState, onLeave };

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    let disposed = false;
    const safe = styleSafeDocument(document);
    const terminal = new Terminal({
      documentOverride: safe.document,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      fontSize: 14,
      scrollback: 5000,
      screenReaderMode: screenReader.current,
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(element);
    terminal.textarea?.setAttribute('aria-describedby', 'terminal-keys');
    shown.current = terminal;
    fit.fit();
    const connection = new TerminalConnection({
      target: () => callbacks.current.target(),
      size: () => ({ cols: terminal.cols, rows: terminal.rows }),
      onOutput: (bytes) => terminal.write(bytes),
      // A closed terminal's last word must not overwrite the state of the one that replaced it.
      onState: (state) => {
        if (!disposed) callbacks.current.onState(state);
      },
      ...(processId !== undefined ? { processId } : {}),
    });
    terminal.attachCustomKeyEventHandler((event) => {
      if (!isLeaveKey(event)) return true;
      if (event.type === 'keydown') callbacks.current.onLeave();
      return false;
    });
    const typed = terminal.onData((text) => connection.input(encoder.encode(text)));
    const binary = terminal.onBinary((text) =>
      connection.input(Uint8Array.from(text, (char) => char.charCodeAt(0) & 0xff)),
    );
    const resized = terminal.onResize(() => connection.resize());
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(element);
    const online = () => connection.retryNow();
    window.addEventListener('online', online);
    void connection.run();
    terminal.focus();
    return () => {
      disposed = true;
      window.removeEventListener('online', online);
      observer.disconnect();
      connection.close();
      typed.dispose();
      binary.dispose();
      resized.dispose();
      shown.current = undefined;
      terminal.dispose();
      safe.dispose();
    };
  }, [processId]);

  useEffect(() => {
    if (shown.current) shown.current.options.screenReaderMode = screenReaderMode;
  }, [screenReaderMode]);

  return <div className="terminal-host" ref={host} data-terminal="" />;
}
