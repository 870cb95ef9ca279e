import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Environment } from '../client.js';
import type { LoadState } from '../load.js';
import { environmentFixture as environment } from '../testing/fixtures.js';
import { ignore, markup } from '../testing/markup.js';
import { EnvironmentHeader, type EnvironmentHeaderProps } from './EnvironmentHeader.js';

function header(state: LoadState<Environment>, extra: Partial<EnvironmentHeaderProps> = {}) {
  return markup(
    <EnvironmentHeader
      environment={state}
      userId="usr_aaaaaaaaaaaaaaaa"
      actionError={null}
      watchProblem={null}
      confirmingDelete={false}
      busy={false}
      onStart={ignore}
      onStop={ignore}
      onAskDelete={ignore}
      onCancelDelete={ignore}
      onConfirmDelete={ignore}
      {...extra}
    />,
  );
}

test('environment header: loading and error states keep a heading and a way back', () => {
  const loading = header({ kind: 'loading' });
  assert.match(loading, /<h1>Environment<\/h1>/);
  assert.match(loading, /role="status">Loading the environment…</);
  assert.match(loading, /<a href="\/">All environments<\/a>/);
  const failed = header({ kind: 'error', message: 'environment env_x was not found' });
  assert.match(failed, /role="alert">Could not load the environment: environment env_x was not/);
  assert.doesNotMatch(failed, />Stop</);
});

test('environment header: what it is, its phase announced, and the actions that fit it', () => {
  const alpha = environment('alpha', 'running');
  alpha.spec.devcontainerPath = '.devcontainer/node/devcontainer.json';
  const html = header({ kind: 'ready', data: alpha });
  assert.match(html, /<h1>alpha<\/h1>/);
  assert.match(
    html,
    /<p class="phase-line" role="status">Phase: <span class="phase phase-running"/,
  );
  assert.match(html, /<dt>Repository<\/dt><dd><code>\/srv\/repos\/alpha<\/code><\/dd>/);
  assert.match(html, /<dt>Ref<\/dt><dd><code>main<\/code><\/dd>/);
  assert.match(html, /<dt>Class<\/dt><dd>small<\/dd>/);
  assert.match(html, /<dt>Owner<\/dt><dd><code>usr_aaaaaaaaaaaaaaaa<\/code> \(you\)<\/dd>/);
  assert.match(html, /<dt>Runner<\/dt><dd><code>run_aaaaaaaaaaaaaaaa<\/code><\/dd>/);
  assert.match(html, /<code>.devcontainer\/node\/devcontainer.json<\/code>/);
  assert.match(html, />Stop</);
  assert.doesNotMatch(html, />Start</);
  assert.match(html, />Delete</);

  const other = header({ kind: 'ready', data: alpha }, { userId: 'usr_bbbbbbbbbbbbbbbb' });
  assert.doesNotMatch(other, /\(you\)/);
  const stopped = header({ kind: 'ready', data: environment('beta', 'stopped') });
  assert.match(stopped, />Start</);
  assert.doesNotMatch(stopped, />Stop</);
});

test('environment header: a phase on its way and the step running now', () => {
  const starting = environment('gamma', 'starting');
  starting.status.steps = [
    { name: 'clone', state: 'succeeded', startedAt: '2026-12-04T10:00:00.000Z' },
    { name: 'postStartCommand', state: 'running', startedAt: '2026-12-04T10:00:01.000Z' },
  ];
  const html = header({ kind: 'ready', data: starting });
  assert.match(html, /data-phase="starting">starting<\/span><span class="desired"> \(to running\)/);
  assert.match(html, /data-step="postStartCommand"> — running postStartCommand</);
});

test('environment header: the failure in full, with its step and exit code', () => {
  const failed = environment('delta', 'failed');
  const message = `npm ci exited 1\n${'a line of output\n'.repeat(300)}the last line`;
  failed.status.failure = {
    reason: 'lifecycle_failed',
    message,
    step: 'postCreateCommand',
    exitCode: 1,
  };
  const html = header({ kind: 'ready', data: failed });
  assert.match(html, /<h2 id="failure-title">Why it failed<\/h2>/);
  assert.match(html, /<code>lifecycle_failed<\/code> in step postCreateCommand \(exit code 1\)/);
  assert.ok(html.includes(`<pre>${message}</pre>`), 'the whole message, not cut');
  assert.doesNotMatch(html, /\(to running\)/);
});

test('environment header: delete asks first; errors and stale updates are announced', () => {
  const alpha = environment('alpha', 'running');
  const asking = header({ kind: 'ready', data: alpha }, { confirmingDelete: true });
  assert.match(asking, /role="group" aria-label="Confirm deleting alpha"/);
  assert.match(asking, />Yes, delete alpha</);
  assert.match(asking, />Cancel</);
  assert.doesNotMatch(asking, />Stop</);

  const busy = header({ kind: 'ready', data: alpha }, { busy: true });
  assert.match(busy, /<button type="button" disabled="">Stop<\/button>/);

  const refused = header(
    { kind: 'ready', data: alpha },
    {
      actionError: 'another operation is still running',
      watchProblem: 'Live updates are failing (Failed to fetch); trying again.',
    },
  );
  assert.match(refused, /role="alert">another operation is still running</);
  assert.match(
    refused,
    /role="alert">Live updates are failing \(Failed to fetch\); trying again.</,
  );

  alpha.spec.desiredPhase = 'deleted';
  const deleting = header({ kind: 'ready', data: alpha });
  assert.match(deleting, /This environment is being deleted/);
  assert.doesNotMatch(deleting, /<button/);
  alpha.status.phase = 'deleted';
  assert.match(header({ kind: 'ready', data: alpha }), /This environment was deleted, with its/);
});
