import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scopes, type ErrorBody } from '@hangar/api';
import { issueApiToken } from '../services/api-tokens.js';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

const [sqlite] = testBackends();
let t: TestControlPlane;

before(async () => {
  assert.ok(sqlite);
  t = await startTestControlPlane(sqlite);
});
after(async () => {
  await t.close();
});

async function issue(kind: 'token' | 'session', expiresInS: number) {
  return issueApiToken(t.cp.context.db, {
    userId: t.owner.userId,
    orgId: t.owner.orgId,
    scopes,
    expiresInS,
    kind,
  });
}

const whoami = (token: string) => t.request<ErrorBody>('GET', '/v1/whoami', { token });

test('a refused session says to sign in again; a refused API token says to make another', async () => {
  const session = await issue('session', 600);
  assert.equal((await whoami(session.token)).status, 200);
  const ended = await t.request('POST', '/v1/auth/logout', { token: session.token });
  assert.equal(ended.status, 200, JSON.stringify(ended.body));
  const revoked = await whoami(session.token);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.code, 'unauthenticated');
  assert.equal(revoked.body.tokenKind, 'session');
  assert.match(
    revoked.body.message,
    /^the session has ended .*; sign in again with `hangar login`$/,
  );

  const expired = await whoami((await issue('session', 0)).token);
  assert.equal(expired.body.code, 'token_expired');
  assert.equal(expired.body.tokenKind, 'session');
  assert.equal(expired.body.message, 'the session has expired; sign in again with `hangar login`');

  const old = await whoami((await issue('token', 0)).token);
  assert.equal(old.body.code, 'token_expired');
  assert.equal(old.body.tokenKind, 'token');
  assert.equal(old.body.message, 'the API token has expired; create a new one');
  assert.doesNotMatch(old.body.message, /hangar login/);
});

test('a session of a removed member says so, not to sign in again', async () => {
  const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
  const session = await issueApiToken(t.cp.context.db, {
    userId: member.userId,
    orgId: t.owner.orgId,
    scopes,
    expiresInS: 600,
    kind: 'session',
  });
  const removed = await t.request('DELETE', `/v1/members/${member.userId}`);
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  const refused = await whoami(session.token);
  assert.equal(refused.status, 401);
  assert.equal(refused.body.tokenKind, 'session');
  assert.match(refused.body.message, /^the session is of a user removed from the organization/);
  assert.doesNotMatch(refused.body.message, /hangar login/);
});

test('an unknown token names no kind', async () => {
  const unknown = await whoami('hgr_tok_0000000000000000_nothing');
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.tokenKind, undefined);
});
