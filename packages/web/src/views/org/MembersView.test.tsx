import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadState } from '../../load.js';
import type { Member } from '../../org-types.js';
import { assertLabelled, ignore, markup } from '../../testing/markup.js';
import { addMemberBodyOf } from './AddMemberForm.js';
import { MembersView, type MembersViewProps } from './MembersView.js';

const owner: Member = {
  id: 'usr_owner0000000000',
  role: 'owner',
  externalKey: 'bootstrap:owner',
  createdAt: '2026-12-04T09:00:00.000Z',
};
const alice: Member = {
  id: 'usr_alice0000000000',
  role: 'member',
  externalKey: 'oidc:https://idp.example.test#alice',
  createdAt: '2026-12-04T10:00:00.000Z',
  profile: { name: 'Alice Example' },
};
const gone: Member = {
  id: 'usr_gone00000000000',
  role: 'admin',
  externalKey: 'oidc:https://idp.example.test#gone',
  createdAt: '2026-12-04T10:00:00.000Z',
  removedAt: '2026-12-05T10:00:00.000Z',
};

function view(members: LoadState<Member[]>, extra: Partial<MembersViewProps> = {}): string {
  return markup(
    <MembersView
      members={members}
      selfId={owner.id}
      add={{ busy: false, error: null, formKey: 0, onAdd: ignore }}
      confirmingRemove={null}
      actionError={null}
      notice={null}
      onSetRole={ignore}
      onAskRemove={ignore}
      onCancelRemove={ignore}
      onConfirmRemove={ignore}
      {...extra}
    />,
  );
}

test('members: loading, error and empty states', () => {
  assert.match(view({ kind: 'loading' }), /role="status">Loading members…</);
  const refused = view({
    kind: 'error',
    message: 'your role member may not do this; ask an owner or admin',
  });
  assert.match(
    refused,
    /role="alert">Could not load members: your role member may not do this; ask an owner or admin</,
  );
  assert.doesNotMatch(refused, /Add member/);
  const empty = view({ kind: 'ready', data: [] });
  assert.match(empty, /No members yet/);
  assertLabelled(empty);
});

test('members: each row shows who, role, state; own and removed rows offer no change', () => {
  const html = view({ kind: 'ready', data: [owner, alice, gone] });
  assert.match(html, /<caption>Members and their roles<\/caption>/);
  assert.match(html, /<th scope="row"><code>bootstrap:owner<\/code><\/th>/);
  assert.match(html, /<span data-role="owner">owner \(you\)<\/span>/);
  assert.match(html, /Alice Example<br\/><code>oidc:https:\/\/idp.example.test#alice<\/code>/);
  assert.match(html, /<option value="member" selected="">member<\/option>/);
  assert.match(html, /Change role <span class="visually-hidden">of Alice Example<\/span>/);
  assert.match(html, /Remove <span class="visually-hidden">Alice Example<\/span>/);
  assert.match(html, /removed <time dateTime="2026-12-05T10:00:00.000Z"/);
  assert.doesNotMatch(html, /Remove <span class="visually-hidden">bootstrap:owner/);
  assert.doesNotMatch(html, /of oidc:https:\/\/idp.example.test#gone/);
  assertLabelled(html);
});

test('members: removal asks first and says what it ends', () => {
  const html = view({ kind: 'ready', data: [owner, alice] }, { confirmingRemove: alice.id });
  assert.match(html, /role="group" aria-label="Confirm removing Alice Example"/);
  assert.match(html, /sign-in sessions and SSH keys end at once, and their\s+environments/);
  assert.match(html, />Yes, remove Alice Example</);
  assert.match(html, />Cancel</);
});

test('members: a refused action and a notice are announced; add shows busy and refusal', () => {
  const html = view(
    { kind: 'ready', data: [owner] },
    {
      actionError: 'only an owner may make someone an owner',
      notice: 'Added alice as member.',
      add: { busy: true, error: 'issuer must be https', formKey: 0, onAdd: ignore },
    },
  );
  assert.match(html, /role="alert">only an owner may make someone an owner</);
  assert.match(html, /role="status">Added alice as member.</);
  assert.match(html, /disabled="">Adding…</);
  assert.match(html, /role="alert">issuer must be https</);
});

test('add member: the form reads into the API body, trimmed', () => {
  const form = new FormData();
  form.set('issuer', ' https://idp.example.test ');
  form.set('subject', 'alice');
  form.set('role', 'admin');
  assert.deepEqual(addMemberBodyOf(form), {
    issuer: 'https://idp.example.test',
    subject: 'alice',
    role: 'admin',
  });
  form.set('role', 'superuser');
  assert.equal(addMemberBodyOf(form), undefined);
});
