import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadState } from '../../load.js';
import type { Secret } from '../../org-types.js';
import type { SetSecretOutcome } from '../../secrets/set-secret.js';
import { assertLabelled, ignore, markup } from '../../testing/markup.js';
import { secretRequestOf } from './secret-request.js';
import { SecretsView, type SecretsViewProps } from './SecretsView.js';
import { SetSecretForm } from './SetSecretForm.js';

const secret = (name: string, extra: Partial<Secret> = {}): Secret => ({
  id: `sec_${name.toLowerCase().padEnd(16, 'a')}`,
  orgId: 'org_aaaaaaaaaaaaaaaa',
  name,
  scope: 'user',
  scopeId: 'usr_aaaaaaaaaaaaaaaa',
  delivery: 'env',
  target: name,
  version: 2,
  authorId: 'usr_aaaaaaaaaaaaaaaa',
  runnerIds: ['run_aaaaaaaaaaaaaaaa'],
  createdAt: '2026-12-04T09:00:00.000Z',
  updatedAt: '2026-12-04T10:00:00.000Z',
  ...extra,
});

function view(secrets: LoadState<Secret[]>, extra: Partial<SecretsViewProps> = {}): string {
  return markup(
    <SecretsView
      secrets={secrets}
      set={{ busy: false, outcome: null, formKey: 0, onSet: ignore }}
      confirmingDelete={null}
      actionError={null}
      notice={null}
      onAskDelete={ignore}
      onCancelDelete={ignore}
      onConfirmDelete={ignore}
      {...extra}
    />,
  );
}

test('secrets: loading, error and empty states', () => {
  assert.match(view({ kind: 'loading' }), /role="status">Loading secrets…</);
  const refused = view({ kind: 'error', message: 'your role runner-admin may not do this' });
  assert.match(refused, /role="alert">Could not load secrets: your role runner-admin may not/);
  assert.doesNotMatch(refused, /Set a secret/);
  const empty = view({ kind: 'ready', data: [] });
  assert.match(empty, /No secrets yet/);
  assert.match(empty, /encrypted in this browser to the runners&#x27; keys/);
  assertLabelled(empty);
  assert.match(empty, /type="password" autoComplete="off" name="value"/);
});

test('secrets: a row shows scope, delivery, target, version, author, time; no value', () => {
  const html = view({
    kind: 'ready',
    data: [
      secret('NPM_TOKEN'),
      secret('tls.pem', {
        scope: 'project',
        scopeId: 'payments',
        delivery: 'file',
        target: '/run/secrets/tls.pem',
      }),
      secret('git-token', { scope: 'org', scopeId: '', delivery: 'git', target: 'git.test' }),
    ],
  });
  assert.match(html, /<caption>Secrets you can see \(values are never shown\)<\/caption>/);
  assert.match(
    html,
    new RegExp(
      [
        '<th scope="row"><code>NPM_TOKEN</code></th><td>user</td><td>environment variable</td>',
        '<td><code>NPM_TOKEN</code></td><td>2</td><td><code>usr_a+</code></td>',
        '<td><time dateTime="2026-12-04T10:00:00.000Z"',
      ].join(''),
    ),
  );
  assert.match(html, /<td>project payments<\/td><td>file<\/td><td><code>\/run\/secrets\/tls.pem/);
  assert.match(html, /<td>org<\/td><td>git host credential<\/td>/);
  assert.match(html, /Delete <span class="visually-hidden">org secret git-token<\/span>/);
});

test('secrets: delete asks first; refusals and notices are announced', () => {
  const npm = secret('NPM_TOKEN');
  const html = view(
    { kind: 'ready', data: [npm] },
    { confirmingDelete: npm.id, actionError: 'secret not found', notice: 'Deleted.' },
  );
  assert.match(html, /role="group" aria-label="Confirm deleting user secret NPM_TOKEN"/);
  assert.match(html, />Yes, delete user secret NPM_TOKEN</);
  assert.match(html, /role="alert">secret not found</);
  assert.match(html, /role="status">Deleted.</);
});

const form = (outcome: SetSecretOutcome | null, busy = false) =>
  markup(<SetSecretForm busy={busy} outcome={outcome} formKey={1} onSet={ignore} />);

test('set secret: the fingerprints sealed to are shown, and the signing key', () => {
  const html = form({
    kind: 'sealed',
    secret: secret('NPM_TOKEN', { version: 3 }),
    sealedTo: [
      { runnerId: 'run_one', name: 'one', fingerprint: 'SHA256:abc', state: 'new' },
      { runnerId: 'run_two', name: 'two', fingerprint: 'SHA256:def', state: 'pinned' },
    ],
    signingKey: { fingerprint: 'SHA256:sig', registered: true },
  });
  assert.match(
    html,
    /role="status" class="sealed"><p>Set user secret <code>NPM_TOKEN<\/code> version 3/,
  );
  assert.match(
    html,
    /runner one \(<code>run_one<\/code>\) key <code class="fingerprint">SHA256:abc<\/code>: first/,
  );
  assert.match(html, /SHA256:def<\/code>: the key this browser sealed to before/);
  assert.match(
    html,
    /Signed with your key <code class="fingerprint">SHA256:sig<\/code>, made and registered now/,
  );
  assert.match(form(null, true), /disabled="">Sealing…</);
});

test('set secret: a changed runner key is explained and offered for acceptance', () => {
  const html = form({
    kind: 'key-changed',
    changed: [
      {
        runnerId: 'run_one',
        name: 'one',
        offered: 'SHA256:new',
        pinned: { fingerprint: 'SHA256:old', name: 'one', pinnedAt: '2026-12-01T00:00:00.000Z' },
      },
    ],
  });
  assert.match(html, /role="alert"><p>Nothing was sealed/);
  assert.match(
    html,
    /now has key <code class="fingerprint">SHA256:new<\/code>; this browser pinned/,
  );
  assert.match(html, /name="acceptRunnerKey" value="run_one"/);
  assert.match(html, /I compared it: seal to the new key SHA256:new of runner one/);
  assertLabelled(html);
  const refused = form({ kind: 'refused', message: 'target PATH is set by the runtime' });
  assert.match(refused, /role="alert">The secret was not set: target PATH is set by the runtime</);
});

test('set secret: the form reads into a request with the CLI defaults', () => {
  const data = new FormData();
  data.set('name', ' CANARY ');
  data.set('scope', 'user');
  data.set('delivery', 'env');
  data.set('target', '');
  data.set('value', 'value\n');
  const read = secretRequestOf(data);
  assert.ok(read.ok);
  assert.equal(read.request.target, 'CANARY');
  assert.equal(new TextDecoder().decode(read.request.value), 'value');
  assert.deepEqual(read.request.acceptedRunnerKeys, []);

  data.set('delivery', 'file');
  assert.deepEqual(secretRequestOf(data), {
    ok: false,
    message: 'Give the file path the secret is delivered to.',
  });
  data.set('target', '/run/secrets/c');
  data.set('scope', 'project');
  assert.equal(secretRequestOf(data).ok, false);
  data.set('project', 'payments');
  data.append('acceptRunnerKey', 'run_one');
  const file = secretRequestOf(data);
  assert.ok(file.ok);
  assert.equal(file.request.project, 'payments');
  assert.equal(new TextDecoder().decode(file.request.value), 'value\n');
  assert.deepEqual(file.request.acceptedRunnerKeys, ['run_one']);

  data.set('delivery', 'model');
  const model = secretRequestOf(data);
  assert.equal(model.ok && model.request.target, 'CANARY');
});
