import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

interface Sent {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A request as the browser sends it: a cookie, maybe an Origin and a CSRF token, no bearer. */
async function send(
  t: TestControlPlane,
  method: string,
  path: string,
  options: { cookie?: string; origin?: string; csrf?: string; body?: unknown } = {},
): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${t.cp.listenUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}

/** Signs the dashboard in with `token`: the cookie (name=value) and the CSRF token. */
async function signIn(t: TestControlPlane, token: string) {
  const answer = await send(t, 'POST', '/v1/auth/web-session', {
    origin: t.url,
    body: { token },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const setCookie = answer.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { cookie, setCookie, csrf: String(answer.body.csrfToken), body: answer.body };
}

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

for (const backend of testBackends()) {
  describe(`dashboard sessions on ${backend.kind}`, () => {
    test('a pasted token becomes an HttpOnly, SameSite=Strict cookie session, never shown', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { cookie, setCookie, csrf, body } = await signIn(t, t.owner.token);
        assert.match(setCookie, /^hangar_session=hgr_tok_/);
        assert.match(setCookie, /; HttpOnly/);
        assert.match(setCookie, /; SameSite=Strict/);
        assert.match(setCookie, /; Path=\//);
        assert.doesNotMatch(setCookie, /Secure/, 'plain http: not Secure');
        const sessionToken = cookie.slice('hangar_session='.length);
        assert.notEqual(sessionToken, t.owner.token, 'a new session, not the pasted token');
        const text = JSON.stringify(body);
        assert.ok(!text.includes(sessionToken) && !text.includes(t.owner.token));
        assert.equal(body.role, 'owner');
        assert.equal(body.userId, t.owner.userId);
        assert.ok(csrf.length >= 40);

        const listed = await send(t, 'GET', '/v1/environments', { cookie });
        assert.equal(listed.status, 200);
        const again = await send(t, 'GET', '/v1/auth/web-session', { cookie });
        assert.equal(again.status, 200);
        assert.equal(again.body.csrfToken, csrf, 'the same CSRF token for the same session');

        const logins = await auditOf(t, 'auth.login');
        const login = logins.find((record) => record.details?.flow === 'dashboard-token');
        assert.equal(login?.outcome, 'success');
        assert.equal(login?.actor.id, t.owner.userId);
      } finally {
        await t.close();
      }
    });

    test('a change signed by the cookie needs the CSRF token; refusals are audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { cookie, csrf } = await signIn(t, t.owner.token);
        const body = { scopes: ['environments:read'], expiresInS: 600 };
        const bare = await send(t, 'POST', '/v1/tokens', { cookie, body });
        assert.equal(bare.status, 403);
        assert.match(String(bare.body.message), /CSRF token in X-CSRF-Token/);
        const wrong = await send(t, 'POST', '/v1/tokens', { cookie, body, csrf: `${csrf}x` });
        assert.equal(wrong.status, 403);
        const right = await send(t, 'POST', '/v1/tokens', { cookie, body, csrf });
        assert.equal(right.status, 201, JSON.stringify(right.body));
        const failures = await auditOf(t, 'auth.failure');
        const refused = failures.filter((record) =>
          String(record.details?.reason).includes('CSRF token'),
        );
        assert.equal(refused.length, 2);
        assert.equal(refused[0]?.actor.id, t.owner.userId);
      } finally {
        await t.close();
      }
    });

    test("another site's page is refused even with the cookie and the CSRF token", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { cookie, csrf } = await signIn(t, t.owner.token);
        const origin = 'http://attacker.invalid';
        const read = await send(t, 'GET', '/v1/environments', { cookie, origin });
        assert.equal(read.status, 403);
        const change = await send(t, 'POST', '/v1/tokens', {
          cookie,
          origin,
          csrf,
          body: { scopes: ['environments:read'], expiresInS: 600 },
        });
        assert.equal(change.status, 403);
        const login = await send(t, 'POST', '/v1/auth/web-session', {
          origin,
          body: { token: t.owner.token },
        });
        assert.equal(login.status, 403, 'no sign-in from another site either');
        assert.equal(login.headers.get('set-cookie'), null);
        const own = await send(t, 'GET', '/v1/environments', { cookie, origin: t.url });
        assert.equal(own.status, 200);
      } finally {
        await t.close();
      }
    });

    test('a bad token is refused and audited; no cookie is set', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const revoked = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        await t.request('DELETE', `/v1/tokens/${revoked.tokenId}`);
        for (const token of ['hgr_not-a-token', revoked.token]) {
          const answer = await send(t, 'POST', '/v1/auth/web-session', { body: { token } });
          assert.equal(answer.status, 401, JSON.stringify(answer.body));
          assert.match(String(answer.body.message), /the token was refused/);
          assert.equal(answer.headers.get('set-cookie'), null);
        }
        const denied = (await auditOf(t, 'auth.login')).filter(
          (record) => record.outcome === 'denied',
        );
        assert.ok(denied.some((record) => record.actor.id === revoked.userId));
        const malformed = await send(t, 'POST', '/v1/auth/web-session', {
          body: { token: 'x', extra: true },
        });
        assert.equal(malformed.status, 400);
      } finally {
        await t.close();
      }
    });

    test('signing out, or revoking the pasted token, ends the cookie session', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const first = await signIn(t, t.owner.token);
        const out = await send(t, 'DELETE', '/v1/auth/web-session', {
          cookie: first.cookie,
          csrf: first.csrf,
        });
        assert.equal(out.status, 200, JSON.stringify(out.body));
        assert.match(out.headers.get('set-cookie') ?? '', /^hangar_session=; .*Max-Age=0/);
        const after = await send(t, 'GET', '/v1/environments', { cookie: first.cookie });
        assert.equal(after.status, 401);

        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const second = await signIn(t, member.token);
        assert.equal(second.body.role, 'member');
        await t.request('DELETE', `/v1/tokens/${member.tokenId}`);
        const cut = await send(t, 'GET', '/v1/environments', { cookie: second.cookie });
        assert.equal(cut.status, 401, 'the session is a child of the revoked token');
      } finally {
        await t.close();
      }
    });

    test('a second session cookie planted by another port is refused, audited and cleared', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const victim = await signIn(t, t.owner.token);
        const mallory = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const planted = await signIn(t, mallory.token);
        // A page on another port wrote `hangar_session=...; path=/v1`: the browser sends both,
        // the more specific path first.
        const both = `${planted.cookie}; ${victim.cookie}`;
        const refused = await send(t, 'GET', '/v1/environments/env_aaaaaaaaaaaaaaaa', {
          cookie: both,
        });
        assert.equal(refused.status, 401);
        assert.match(String(refused.body.message), /more than one session cookie/);
        const cleared = refused.headers.getSetCookie();
        assert.deepEqual(cleared, [
          'hangar_session=; Path=/v1; Max-Age=0',
          'hangar_session=; Path=/v1/environments; Max-Age=0',
          'hangar_session=; Path=/v1/environments/env_aaaaaaaaaaaaaaaa; Max-Age=0',
        ]);
        const failures = await auditOf(t, 'auth.failure');
        const named = failures
          .filter((record) => record.details?.reason === 'more than one session cookie')
          .map((record) => record.actor.id)
          .sort();
        assert.deepEqual(named, [mallory.userId, t.owner.userId].sort());
        const change = await send(t, 'POST', '/v1/tokens', {
          cookie: both,
          csrf: planted.csrf,
          body: { scopes: ['environments:read'], expiresInS: 600 },
        });
        assert.equal(change.status, 401, 'a change is refused the same way');
        const alone = await send(t, 'GET', '/v1/auth/web-session', { cookie: victim.cookie });
        assert.equal(alone.body.userId, t.owner.userId, 'the real session works on its own');
      } finally {
        await t.close();
      }
    });

    test('behind a TLS public URL the cookie is Secure and __Host- prefixed', async () => {
      const t = await startTestControlPlane(backend, { publicUrl: 'https://hangar.example.test' });
      try {
        const answer = await send(t, 'POST', '/v1/auth/web-session', {
          origin: 'https://hangar.example.test',
          body: { token: t.owner.token },
        });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const setCookie = answer.headers.get('set-cookie') ?? '';
        assert.match(setCookie, /^__Host-hangar_session=hgr_tok_.*; Secure$/);
        const cookie = setCookie.split(';')[0] ?? '';
        const listed = await send(t, 'GET', '/v1/environments', {
          cookie,
          origin: 'https://hangar.example.test',
        });
        assert.equal(listed.status, 200);
      } finally {
        await t.close();
      }
    });
  });
}
