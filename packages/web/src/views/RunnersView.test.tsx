import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadState } from '../load.js';
import type { CreatedRunner, Runner } from '../runners.js';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import {
  createdRunnerFixture,
  enrollmentTokenFixture as token,
  runnerFixture as runner,
} from '../testing/runner-fixtures.js';
import { RunnersView, type RunnersViewProps } from './RunnersView.js';

function page(
  list: LoadState<Runner[]>,
  extra: Partial<RunnersViewProps> & { created?: CreatedRunner | null } = {},
): string {
  return markup(
    <RunnersView
      list={list}
      canManage
      confirming={null}
      actionError={null}
      created={null}
      controlPlaneUrl="https://hangar.example.internal"
      onDismissCreated={ignore}
      create={{ busy: false, error: null, onCreate: ignore }}
      onAsk={ignore}
      onCancel={ignore}
      onConfirm={ignore}
      onEnable={ignore}
      {...extra}
    />,
  );
}

const ready = (runners: Runner[]) => ({ kind: 'ready', data: runners }) as const;

test('runners: loading, error and empty states', () => {
  assert.match(page({ kind: 'loading' }), /role="status">Loading runners…</);
  const failed = page({ kind: 'error', message: 'the control plane answered 503' });
  assert.match(failed, /role="alert">Could not load runners: the control plane answered 503</);
  assert.doesNotMatch(failed, /<table/);
  const empty = page(ready([]));
  assert.match(empty, /role="status">No runners yet\. Create one with the form\.</);
  assertLabelled(empty);
  const emptyToMember = page(ready([]), { canManage: false });
  assert.match(emptyToMember, /No runners yet\.</);
  assert.doesNotMatch(emptyToMember, /New runner|<form/);
});

test('runners: each row shows state, last contact, key fingerprint and environments', () => {
  const html = page(
    ready([
      runner('local', 'online'),
      runner('old-box', 'offline', { environmentCount: 0 }),
      runner('new-box', 'pending', { environmentCount: 0 }),
      runner('bad-box', 'disabled'),
    ]),
  );
  assert.match(html, /<caption>Runners<\/caption>/);
  assert.match(
    html,
    /<tr data-runner="local"><th scope="row">local<br\/><code class="id">run_local/,
  );
  for (const state of ['online', 'offline', 'pending', 'disabled']) {
    assert.match(html, new RegExp(`data-state="${state}">${state}<`));
  }
  assert.match(html, /<code class="fingerprint">SHA256:localfingerprint/);
  assert.match(html, /none yet \(not enrolled\)/);
  assert.match(html, /<time dateTime="2026-12-04T10:00:00.000Z"/);
  assert.match(html, /<td data-environments="2">2<\/td>/);
  assert.match(html, /<td data-environments="0">0<\/td>/);
  assert.match(html, /data-state="disabled">disabled<\/span> since <time/);
});

test('runners: the actions fit each state, and are offered only to runner managers', () => {
  const html = page(
    ready([
      runner('local', 'online'),
      runner('new-box', 'pending'),
      runner('bad-box', 'disabled'),
      runner('turning', 'online', { keyRotationRequestedAt: '2026-12-04T10:40:00.000Z' }),
    ]),
  );
  assert.match(html, /Disable <span class="visually-hidden">local<\/span>/);
  assert.match(html, /Rotate key <span class="visually-hidden">of local<\/span>/);
  assert.match(html, /Disable <span class="visually-hidden">new-box<\/span>/);
  assert.doesNotMatch(html, /of new-box</, 'a runner without a key has none to rotate');
  assert.match(html, /Enable <span class="visually-hidden">bad-box<\/span>/);
  assert.doesNotMatch(html, /of bad-box</);
  assert.doesNotMatch(html, /of turning</);
  assert.match(html, /Rotation requested <time/);

  const member = page(ready([runner('local', 'online', { environmentCount: undefined })]), {
    canManage: false,
  });
  assert.doesNotMatch(member, /Actions<\/th>|Disable|Rotate key/);
  assert.match(member, /<td><span title="not shown to your role">—<\/span><\/td>/);
});

test('runners: disable and rotate ask first', () => {
  const list = ready([runner('local', 'online'), runner('other', 'online')]);
  const disabling = page(list, {
    confirming: { id: runner('local', 'online').id, action: 'disable' },
  });
  assert.match(disabling, /role="group" aria-label="Confirm for local"/);
  assert.match(disabling, /Disable local\? Its connection is closed now and refused\./);
  assert.match(disabling, />Yes, disable local</);
  assert.match(disabling, />Cancel</);
  assert.match(disabling, /Disable <span class="visually-hidden">other/);
  const rotating = page(list, {
    confirming: { id: runner('other', 'online').id, action: 'rotate' },
  });
  assert.match(rotating, />Yes, rotate the key of other</);
});

test('runners: a new runner shows its token once, with the command to start it', () => {
  const html = page(ready([runner('local', 'online')]), { created: createdRunnerFixture('box-2') });
  assert.match(html, /<h2 id="enrollment-title" tabindex="-1">Runner box-2 created<\/h2>/);
  assert.match(html, /Enrollment token \(shown once; single use; expires <time/);
  assert.ok(html.includes(`<code>${token}</code>`));
  assert.ok(
    html.includes(
      `<code>npx hangar runner --control-plane https://hangar.example.internal --enroll ${token}` +
        ' --data-dir /var/lib/hangar-runner-box-2</code>',
    ),
  );
  assert.match(html, /as root, on the machine that will hold the environments/);
  assert.match(html, />I have copied it: hide the token</);
  assert.ok(html.indexOf('Runner box-2 created') < html.indexOf('New runner'));
  assert.ok(!page(ready([])).includes(token), 'nothing shows a token unless one was just made');
});

test('runners: the create form and an action error', () => {
  const busy = page(ready([]), { create: { busy: true, error: null, onCreate: ignore } });
  assert.match(busy, /disabled="">Creating…</);
  const refused = page(ready([]), {
    create: { busy: false, error: 'a runner named x already exists', onCreate: ignore },
  });
  assert.match(refused, /role="alert">a runner named x already exists</);
  const failedAction = page(ready([runner('local', 'online')]), {
    actionError: 'runner run_x has not enrolled yet',
  });
  assert.match(failedAction, /role="alert">runner run_x has not enrolled yet</);
});
