import assert from 'node:assert/strict';
import { test } from 'node:test';
import { environmentFixture as environment } from '../testing/fixtures.js';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import { createBodyOf, CreateEnvironmentForm } from './CreateEnvironmentForm.js';
import type { ListState } from './EnvironmentList.js';
import { EnvironmentsView, type EnvironmentsViewProps } from './EnvironmentsView.js';

function page(list: ListState, extra: Partial<EnvironmentsViewProps> = {}): string {
  return markup(
    <EnvironmentsView
      list={list}
      confirmingDelete={null}
      actionError={null}
      create={{ busy: false, error: null, onCreate: ignore }}
      onStart={ignore}
      onStop={ignore}
      onAskDelete={ignore}
      onCancelDelete={ignore}
      onConfirmDelete={ignore}
      {...extra}
    />,
  );
}

test('environments: loading, error and empty states', () => {
  assert.match(page({ kind: 'loading' }), /role="status">Loading environments…</);
  const failed = page({ kind: 'error', message: 'the control plane answered 503' });
  assert.match(failed, /role="alert">Could not load environments: the control plane answered 503/);
  assert.doesNotMatch(failed, /<table/);
  const empty = page({ kind: 'ready', environments: [] });
  assert.match(empty, /No environments yet/);
  assertLabelled(empty);
});

test('environments: each row shows its phase and the actions that fit it', () => {
  const html = page({
    kind: 'ready',
    environments: [environment('alpha', 'running'), environment('beta', 'stopped')],
  });
  assert.match(
    html,
    /<th scope="row"><a href="\/environments\/env_alpha[a]+">alpha<\/a><\/th><td>\/srv\/repos\/alpha @ main<\/td>/,
  );
  assert.match(html, /data-phase="running">running</);
  assert.match(html, /data-phase="stopped">stopped</);
  assert.match(html, /Stop <span class="visually-hidden">alpha<\/span>/);
  assert.match(html, /Start <span class="visually-hidden">beta<\/span>/);
  assert.doesNotMatch(html, /Stop <span class="visually-hidden">beta/);
  assert.equal(html.match(/>Delete </g)?.length, 2);
});

test('environments: a failure is shown in full, with its step and exit code', () => {
  const failed = environment('gamma', 'failed');
  const message = `postCreateCommand exited 3\n${'line of output\n'.repeat(200)}last line`;
  failed.status.failure = {
    reason: 'lifecycle_failed',
    message,
    step: 'postCreateCommand',
    exitCode: 3,
  };
  const html = page({ kind: 'ready', environments: [failed] });
  assert.match(
    html,
    /Failed: <code>lifecycle_failed<\/code> in step postCreateCommand \(exit code 3\)/,
  );
  assert.ok(html.includes(`<pre>${message}</pre>`));
  assert.doesNotMatch(html, /\(to running\)/);
});

test('environments: delete asks for confirmation first', () => {
  const alpha = environment('alpha', 'running');
  const html = page({ kind: 'ready', environments: [alpha] }, { confirmingDelete: alpha.id });
  assert.match(html, /role="group" aria-label="Confirm deleting alpha"/);
  assert.match(html, />Yes, delete alpha</);
  assert.match(html, />Cancel</);
  assert.doesNotMatch(html, />Stop </);
});

test('environments: an action error is announced above the list', () => {
  const html = page(
    { kind: 'ready', environments: [environment('alpha', 'running')] },
    { actionError: 'another operation is still running' },
  );
  assert.match(html, /role="alert">another operation is still running</);
});

test('create form: busy and error states', () => {
  const busy = markup(<CreateEnvironmentForm busy error={null} onCreate={ignore} />);
  assert.match(busy, /disabled="">Creating…</);
  const refused = markup(
    <CreateEnvironmentForm busy={false} error="class: no class tiny" onCreate={ignore} />,
  );
  assert.match(refused, /role="alert">class: no class tiny</);
});

test('create form: empty optional fields are left out of the body', () => {
  const form = new FormData();
  form.set('repository', ' /srv/repos/alpha ');
  form.set('ref', '');
  form.set('class', '');
  form.set('name', '');
  form.set('devcontainerPath', '');
  assert.deepEqual(createBodyOf(form), { repository: { url: '/srv/repos/alpha' } });
  form.set('ref', 'feature/x');
  form.set('class', 'small');
  form.set('name', 'alpha');
  form.set('devcontainerPath', '.devcontainer/node/devcontainer.json');
  assert.deepEqual(createBodyOf(form), {
    repository: { url: '/srv/repos/alpha', ref: 'feature/x' },
    name: 'alpha',
    class: 'small',
    devcontainerPath: '.devcontainer/node/devcontainer.json',
  });
});

test('environments: the lifecycle step running now is shown beside the phase', () => {
  const creating = environment('delta', 'creating');
  creating.status.steps = [
    { name: 'clone', state: 'succeeded', startedAt: '2026-12-04T10:00:00.000Z' },
    { name: 'postCreateCommand', state: 'running', startedAt: '2026-12-04T10:00:01.000Z' },
  ];
  const html = page({ kind: 'ready', environments: [creating] });
  assert.match(html, /data-phase="creating">creating</);
  assert.match(html, /data-step="postCreateCommand"> — postCreateCommand</);
  assert.doesNotMatch(html, /data-step="clone"/);
});
