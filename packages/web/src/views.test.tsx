import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderToStaticMarkup } from 'react-dom/server';
import type { Environment } from './client.js';
import { createBodyOf, CreateEnvironmentForm } from './views/CreateEnvironmentForm.js';
import type { ListState } from './views/EnvironmentList.js';
import { EnvironmentsView, type EnvironmentsViewProps } from './views/EnvironmentsView.js';
import { SignInView } from './views/SignInView.js';

const ignore = () => undefined;

function environment(name: string, phase: Environment['status']['phase']): Environment {
  return {
    id: `env_${name.padEnd(16, 'a')}`,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    runnerId: 'run_aaaaaaaaaaaaaaaa',
    name,
    generation: 1,
    statusVersion: 3,
    spec: {
      repository: { url: `/srv/repos/${name}`, ref: 'main' },
      class: 'small',
      desiredPhase: phase === 'stopped' ? 'stopped' : 'running',
    },
    status: {
      phase,
      observedGeneration: 1,
      conditions: [],
      steps: [],
      phaseChangedAt: '2026-12-04T10:00:00.000Z',
    },
    createdAt: '2026-12-04T09:59:00.000Z',
    updatedAt: '2026-12-04T10:00:00.000Z',
  };
}

function page(list: ListState, extra: Partial<EnvironmentsViewProps> = {}): string {
  return renderToStaticMarkup(
    <EnvironmentsView
      list={list}
      confirmingDelete={null}
      actionError={null}
      create={{ busy: false, error: null, onCreate: ignore }}
      onSignOut={ignore}
      onStart={ignore}
      onStop={ignore}
      onAskDelete={ignore}
      onCancelDelete={ignore}
      onConfirmDelete={ignore}
      {...extra}
    />,
  );
}

/** Every input has a label whose `for` names it. */
function assertLabelled(html: string) {
  const inputs = [...html.matchAll(/<input[^>]* id="([^"]+)"/g)].map((match) => match[1]);
  assert.ok(inputs.length > 0);
  for (const id of inputs) assert.match(html, new RegExp(`<label for="${id}">`), `input ${id}`);
}

test('sign in: a labelled password field, no error until one is given', () => {
  const html = renderToStaticMarkup(<SignInView busy={false} error={null} onSignIn={ignore} />);
  assert.match(html, /<h1>Sign in to Hangar<\/h1>/);
  assert.match(html, /type="password"/);
  assert.doesNotMatch(html, /role="alert"/);
  assertLabelled(html);
});

test('sign in: busy disables the button, an error is announced', () => {
  const busy = renderToStaticMarkup(<SignInView busy error={null} onSignIn={ignore} />);
  assert.match(busy, /<button type="submit" disabled="">Signing in…<\/button>/);
  const refused = renderToStaticMarkup(
    <SignInView busy={false} error="The token was refused: token expired" onSignIn={ignore} />,
  );
  assert.match(refused, /role="alert">The token was refused: token expired</);
  assert.match(refused, /aria-invalid="true"/);
});

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
  assert.match(html, /<th scope="row">alpha<\/th><td>\/srv\/repos\/alpha @ main<\/td>/);
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
  const busy = renderToStaticMarkup(<CreateEnvironmentForm busy error={null} onCreate={ignore} />);
  assert.match(busy, /disabled="">Creating…</);
  const refused = renderToStaticMarkup(
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
  assert.deepEqual(createBodyOf(form), { repository: { url: '/srv/repos/alpha' } });
  form.set('ref', 'feature/x');
  form.set('class', 'small');
  form.set('name', 'alpha');
  assert.deepEqual(createBodyOf(form), {
    repository: { url: '/srv/repos/alpha', ref: 'feature/x' },
    name: 'alpha',
    class: 'small',
  });
});
