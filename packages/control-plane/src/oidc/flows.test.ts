import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord, SessionTokenResponse, StartDeviceResponse } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestBrowser, type TestBrowser } from '../testing/oidc-browser.js';
import {
  pkcePair,
  startOidcFixture,
  startRedirectCatcher,
  type OidcFixture,
} from '../testing/oidc-fixture.js';
import { startTestOidcProvider } from '../testing/oidc-provider.js';

let browser: TestBrowser;
before(async () => {
  browser = await startTestBrowser();
});
after(async () => {
  await browser.close();
});

/** Every row of every table of the control plane's database, as one text. */
async function everyRow(f: OidcFixture): Promise<string> {
  const db = f.t.cp.context.db;
  const tables = await db.query<{ name: string }>(
    db.kind === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table'"
      : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
  );
  assert.ok(tables.length > 10);
  const rows = await Promise.all(tables.map((table) => db.query(`SELECT * FROM ${table.name}`)));
  return JSON.stringify(rows);
}

async function loginRecords(f: OidcFixture): Promise<AuditRecord[]> {
  const page = await f.t.request<{ records: AuditRecord[] }>('GET', '/v1/audit?action=auth.login');
  return page.body.records;
}

/** A whole browser sign-in through the API, as the CLI does it; the session it ends with. */
async function browserSignIn(f: OidcFixture, subject: string) {
  const catcher = await startRedirectCatcher();
  try {
    const pkce = pkcePair();
    const started = await f.t.request<{ loginId: string; authorizationUrl: string }>(
      'POST',
      '/v1/auth/login',
      {
        token: null,
        body: { org: 'test', redirectUri: catcher.redirectUri, codeChallenge: pkce.challenge },
      },
    );
    assert.equal(started.status, 200, JSON.stringify(started.body));
    await browser.signIn({
      url: started.body.authorizationUrl,
      subject,
      done: async (page) => page.url().startsWith(catcher.redirectUri),
    });
    const query = await catcher.received;
    return { loginId: started.body.loginId, query, pkce };
  } finally {
    await catcher.close();
  }
}

for (const backend of testBackends()) {
  describe(`OpenID Connect sign-in on ${backend.kind}`, () => {
    test('browser flow: provider login, hand-off code, session token that works', async () => {
      const f = await startOidcFixture(backend);
      try {
        const { loginId, query, pkce } = await browserSignIn(f, 'alice');
        assert.equal(query.get('error'), null, query.get('error_description') ?? '');
        const code = query.get('code') ?? '';
        const wrong = await f.t.request('POST', '/v1/auth/login/complete', {
          token: null,
          body: { loginId, code, codeVerifier: pkcePair().verifier },
        });
        assert.equal(wrong.status, 401, 'another verifier is refused');
        const again = await f.t.request('POST', '/v1/auth/login/complete', {
          token: null,
          body: { loginId, code, codeVerifier: pkce.verifier },
        });
        assert.equal(again.status, 401, 'a refused completion ends the sign-in for good');

        const second = await browserSignIn(f, 'alice');
        const done = await f.t.request<SessionTokenResponse>('POST', '/v1/auth/login/complete', {
          token: null,
          body: {
            loginId: second.loginId,
            code: second.query.get('code') ?? '',
            codeVerifier: second.pkce.verifier,
          },
        });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        const me = await f.t.request<{ userId: string; role: string }>('GET', '/v1/whoami', {
          token: done.body.token,
        });
        assert.equal(me.status, 200);
        assert.equal(me.body.userId, done.body.userId);
        assert.equal(me.body.role, 'member');
        const replay = await f.t.request('POST', '/v1/auth/login/complete', {
          token: null,
          body: {
            loginId: second.loginId,
            code: second.query.get('code') ?? '',
            codeVerifier: second.pkce.verifier,
          },
        });
        assert.equal(replay.status, 401, 'a hand-off code works once');

        const records = await loginRecords(f);
        const reasons = records.filter((r) => r.outcome === 'denied').map((r) => r.details.reason);
        assert.ok(reasons.includes('pkce mismatch'), JSON.stringify(reasons));
        assert.ok(reasons.includes('login used') || reasons.includes('unknown login'));
        const success = records.filter((r) => r.outcome === 'success');
        assert.equal(success.length, 1);
        assert.equal(success[0]?.details.flow, 'browser');
        assert.equal(success[0]?.details.issuer, f.provider.issuer);
        assert.equal(success[0]?.actor.id, done.body.userId);
        const text = JSON.stringify(records);
        assert.ok(!text.includes(done.body.token) && !text.includes(second.pkce.verifier));

        const stored = await everyRow(f);
        const account = f.provider.accountOf('alice');
        assert.ok(account.email && account.name);
        const key = `oidc:${f.t.owner.orgId}:${f.provider.issuer}#alice`;
        assert.ok(stored.includes(key), 'organization, issuer and subject only');
        assert.ok(!stored.includes(account.email), 'no e-mail stored by default');
        assert.ok(!stored.includes(account.name), 'no name stored by default');
        assert.ok(!stored.includes(f.provider.clientSecret), 'the client secret is sealed');
        // The secret is what follows `hgr_<token id>_`; it may itself hold `_`.
        const secret = /^hgr_tok_[0-9a-z]+_(.+)$/.exec(done.body.token)?.[1] ?? '';
        assert.ok(secret.length >= 40);
        assert.ok(!stored.includes(secret), 'token hashed');
      } finally {
        await f.close();
      }
    });

    test('device flow: the code approved in the browser, then one session', async () => {
      const f = await startOidcFixture(backend);
      try {
        const started = await f.t.request<StartDeviceResponse>('POST', '/v1/auth/device', {
          token: null,
          body: { org: 'test' },
        });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const poll = () =>
          f.t.request<SessionTokenResponse & { status?: string }>('POST', '/v1/auth/device/poll', {
            token: null,
            body: { loginId: started.body.loginId, pollSecret: started.body.pollSecret },
          });
        const pending = await poll();
        assert.equal(pending.status, 202);
        assert.equal(pending.body.status, 'pending');
        const early = await poll();
        assert.equal(early.status, 202);
        assert.equal(early.body.status, 'slow_down', 'polling faster than the interval');

        await browser.signIn({
          url: started.body.verificationUriComplete ?? started.body.verificationUri,
          subject: 'bob',
          userCode: started.body.userCode,
          done: async (page) => /success/i.test(await page.innerText('body')),
        });
        let session: SessionTokenResponse | undefined;
        for (let attempt = 0; attempt < 30 && !session; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, started.body.intervalS * 1000));
          const answer = await poll();
          if (answer.status === 200) session = answer.body;
          else assert.equal(answer.status, 202, JSON.stringify(answer.body));
        }
        assert.ok(session, 'the device sign-in finished');
        const me = await f.t.request<{ userId: string }>('GET', '/v1/whoami', {
          token: session.token,
        });
        assert.equal(me.body.userId, session.userId);
        const over = await poll();
        assert.equal(over.status, 401, 'a finished device sign-in gives no second session');
        const records = await loginRecords(f);
        assert.ok(records.some((r) => r.outcome === 'success' && r.details.flow === 'device'));
      } finally {
        await f.close();
      }
    });

    test('token exchange: the organization provider only, unexpired, for this client', async () => {
      const f = await startOidcFixture(backend);
      const foreign = await startTestOidcProvider({ redirectUris: ['http://127.0.0.1:1/x'] });
      try {
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: 'carol', aud: f.provider.clientId, iat: now, exp: now + 300 };
        const exchange = (idToken: string) =>
          f.t.request<SessionTokenResponse>('POST', '/v1/auth/token-exchange', {
            token: null,
            body: { org: 'test', idToken },
          });
        const good = await exchange(await f.provider.sign(claims));
        assert.equal(good.status, 200, JSON.stringify(good.body));
        const cases: [string, string][] = [
          ['foreign issuer', await foreign.sign(claims)],
          ['expired', await f.provider.sign({ ...claims, iat: now - 7200, exp: now - 3600 })],
          ['audience', await f.provider.sign({ ...claims, aud: 'another-client' })],
          ['unknown key', await f.provider.sign(claims, { kid: 'not-in-the-jwks' })],
        ];
        for (const [reason, token] of cases) {
          const refused = await exchange(token);
          assert.equal(refused.status, 401, reason);
          assert.equal(refused.body.token, undefined);
        }
        const denied = (await loginRecords(f)).filter((r) => r.outcome === 'denied');
        assert.deepEqual(
          denied.map((r) => r.details.reason),
          cases.map(([reason]) => reason),
        );
        assert.ok(denied.every((r) => r.details.flow === 'token-exchange'));
      } finally {
        await foreign.close();
        await f.close();
      }
    });

    test('allowed domains, the required claim, removal and profiles are enforced', async () => {
      const f = await startOidcFixture(backend, {
        settings: {
          allowedDomains: ['example.test'],
          requiredClaim: { name: 'team', value: 'dev' },
        },
        accounts: {
          ok: {
            email: 'ok@example.test',
            email_verified: true,
            name: 'Okay Person',
            team: ['dev'],
          },
          unverified: { email: 'u@example.test', email_verified: false, team: 'dev' },
          outsider: { email: 'o@elsewhere.test', email_verified: true, team: 'dev' },
          noteam: { email: 'n@example.test', email_verified: true, team: 'ops' },
        },
      });
      try {
        const now = Math.floor(Date.now() / 1000);
        const exchange = async (subject: string) => {
          const idToken = await f.provider.sign({
            sub: subject,
            aud: f.provider.clientId,
            iat: now,
            exp: now + 300,
            // Each ID token is traded once; this one is new each time.
            jti: randomUUID(),
            ...f.provider.accountOf(subject),
          });
          return f.t.request<SessionTokenResponse>('POST', '/v1/auth/token-exchange', {
            token: null,
            body: { idToken },
          });
        };
        assert.equal((await exchange('unverified')).status, 401);
        assert.equal((await exchange('outsider')).status, 401);
        assert.equal((await exchange('noteam')).status, 401);
        const ok = await exchange('ok');
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.ok(!(await everyRow(f)).includes('ok@example.test'));

        const put = await f.t.request('PUT', '/v1/org/oidc', {
          body: { issuer: f.provider.issuer, clientId: f.provider.clientId, storeProfile: true },
        });
        assert.equal(put.status, 200);
        assert.equal((await exchange('ok')).status, 200);
        const users = await f.t.cp.context.db.query<{ profile: string | null }>(
          'SELECT profile FROM users WHERE id = ?',
          [ok.body.userId],
        );
        assert.deepEqual(JSON.parse(users[0]?.profile ?? 'null'), {
          name: 'Okay Person',
          email: 'ok@example.test',
        });

        await f.t.cp.context.db.execute('UPDATE users SET removed_at = ? WHERE id = ?', [
          Date.now(),
          ok.body.userId,
        ]);
        assert.equal((await exchange('ok')).status, 401);
        const denied = (await loginRecords(f)).filter((r) => r.outcome === 'denied');
        assert.deepEqual(
          denied.map((r) => r.details.reason),
          ['domain not allowed', 'domain not allowed', 'claim missing', 'user removed'],
        );
        assert.equal(denied.at(-1)?.actor.id, ok.body.userId);
      } finally {
        await f.close();
      }
    });
  });
}
