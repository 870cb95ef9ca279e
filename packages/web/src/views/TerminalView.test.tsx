import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import { statusText, TerminalView, type TerminalViewState } from './TerminalView.js';

const view = (state: TerminalViewState, children?: string) =>
  markup(
    <TerminalView
      state={state}
      screenReader={false}
      onScreenReader={ignore}
      onOpen={ignore}
      onReattach={ignore}
      onClose={ignore}
    >
      {children ? <div className="terminal-host">{children}</div> : null}
    </TerminalView>,
  );

test('terminal: idle, unavailable and connecting states', () => {
  const idle = view({ kind: 'idle' });
  assert.match(idle, /<h2 id="terminal-title">Terminal<\/h2>/);
  assert.match(idle, /Press <kbd>Ctrl\+Shift\+L<\/kbd> to move focus out of it/);
  assert.match(idle, />Open a terminal</);
  assertLabelled(idle);
  assert.match(idle, /<label for="terminal-screen-reader">Screen reader mode/);
  assert.doesNotMatch(idle, /role="status"/);
  const stopped = view({ kind: 'unavailable', reason: 'A terminal opens while it runs.' });
  assert.match(stopped, /<p>A terminal opens while it runs.<\/p>/);
  assert.doesNotMatch(stopped, /<button/);
  const connecting = view({ kind: 'connecting' }, 'xterm');
  assert.match(
    connecting,
    /role="status" class="terminal-status" data-terminal-state="connecting"/,
  );
  assert.match(connecting, /<div class="terminal-host">xterm<\/div>/);
  assert.match(connecting, />Close terminal</);
});

test('terminal: after a drop, a reattach, an exit and a failure', () => {
  const dropped = view({ kind: 'reconnecting', reason: 'closed with code 1006', attempt: 2 });
  assert.match(dropped, /Connection lost \(closed with code 1006\); reattaching, attempt 2…/);
  const back = view({ kind: 'ready', processId: 'p1', reattached: true, lostBytes: 0 });
  assert.match(back, /Reattached; nothing was lost./);
  const exited = view({ kind: 'exited', exitCode: 0, signal: null });
  assert.match(exited, /The shell exited with code 0./);
  assert.match(exited, />Open a new terminal</);
  assert.doesNotMatch(exited, />Reattach</);
  const failed = view({
    kind: 'failed',
    message: 'the terminal session was ended',
    processId: 'p1',
  });
  assert.match(failed, /role="alert">The terminal stopped: the terminal session was ended</);
  assert.match(failed, />Reattach</);
  const refused = view({ kind: 'failed', message: 'forbidden', processId: null });
  assert.doesNotMatch(refused, />Reattach</);
  assert.match(view({ kind: 'closed' }), />Reattach</);
});

test('terminal status words', () => {
  assert.equal(
    statusText({ kind: 'ready', processId: 'p', reattached: false, lostBytes: 0 }),
    'Connected.',
  );
  assert.match(
    statusText({ kind: 'ready', processId: 'p', reattached: true, lostBytes: 512 }),
    /512 bytes of output from while it was away were lost/,
  );
  assert.equal(
    statusText({ kind: 'exited', exitCode: null, signal: 'SIGHUP' }),
    'The shell ended by signal SIGHUP.',
  );
});
