import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignore, markup } from '../testing/markup.js';
import type { GatewayState } from './gateway-state.js';
import { LifecycleLogs } from './LifecycleLogs.js';

const logs = (state: GatewayState<string>) =>
  markup(<LifecycleLogs logs={state} onRefresh={ignore} />);

test('lifecycle logs: loading, error, empty and unavailable states', () => {
  const loading = logs({ kind: 'loading' });
  assert.match(loading, /role="status">Loading the lifecycle logs…</);
  assert.match(loading, /<button type="button" disabled="">Refresh logs<\/button>/);
  const failed = logs({ kind: 'error', message: "the runner's gateway could not be reached" });
  assert.match(failed, /role="alert">Could not load the lifecycle logs: the runner&#x27;s gateway/);
  assert.match(failed, /<button type="button">Refresh logs<\/button>/);
  assert.match(
    logs({ kind: 'ready', data: '' }),
    /The lifecycle commands have printed nothing yet/,
  );
  const gone = logs({ kind: 'unavailable', reason: 'The environment is deleted, with its logs.' });
  assert.match(gone, /<p>The environment is deleted, with its logs.<\/p>/);
  assert.doesNotMatch(gone, /<button/);
});

test('lifecycle logs: the text as the runner sent it, in a region a keyboard can scroll', () => {
  const text = '[postCreateCommand] $ npm ci\n[postCreateCommand] <added 12 packages>\n';
  const html = logs({ kind: 'ready', data: text });
  assert.match(html, /<pre class="logs" tabindex="0" aria-label="Lifecycle log output"/);
  assert.ok(html.includes('[postCreateCommand] &lt;added 12 packages&gt;'), 'escaped, not markup');
  assert.match(html, /never passes the control plane/);
});
