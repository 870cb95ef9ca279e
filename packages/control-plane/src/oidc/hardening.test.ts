import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { AuditRecord, ErrorBody, Member, SessionTokenResponse } from '@hangar/api';
import { migrate } from '../storage/migrate.js';
import { migrations } from '../storage/migrations.js';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane } from '../testing/harness.js';
import { startOidcFixture, type OidcFixture } from '../testing/oidc-fixture.js';
import { addUser } from '../testing/users.js';

const [sqlite] = testBackends({});

function exchange(f: OidcFixture, idToken: string) {
  return f.t.request<SessionTokenResponse & ErrorBody>('POST', '/v1/auth/token-exchange', {
    token: null,
    body: { idToken },
  });
}

async function idTokenOf(f: OidcFixture, sub: string, extra: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return f.provider.sign({ sub, aud: f.provider.clientId, iat: now, exp: now + 300, ...extra });
}

async function refusalReasons(f: OidcFixture): Promise<unknown[]> {
  const page = await f.t.request<{ records: AuditRecord[] }>('GET', '/v1/audit?action=auth.login');
  return page.body.records
    .filter((record) => record.outcome === 'denied')
    .map((record) => record.details.reason);
}

for (const backend of testBackends()) {
  describe(`sign-in hardening on ${backend.kind}`, () => {
    test('one person may belong to several organizations; none learns of the others', async () => {
      const f = await startOidcFixture(backend);
      try {
        const alice = await exchange(f, await idTokenOf(f, 'alice'));
        assert.equal(alice.status, 200, JSON.stringify(alice.body));
        const other = await addUser(f.t.cp.context, { role: 'owner' });
        const add = (subject: string) =>
          f.t.request<Member & ErrorBody>('POST', '/v1/members', {
            token: other.token,
            body: { issuer: f.provider.issuer, subject, role: 'member' },
          });
        const taken = await add('alice');
        const free = await add('nobody-yet');
        assert.equal(taken.status, 201, JSON.stringify(taken.body));
        assert.equal(free.status, 201);
        assert.equal(taken.body.externalKey, `oidc:${f.provider.issuer}#alice`);
        assert.notEqual(taken.body.id, alice.body.userId, 'a user of its own');
        const again = await add('alice');
        assert.equal(again.status, 409, 'twice in one organization is still refused');
        assert.match(again.body.message, /already a member of your organization/);

        const bob = await add('bob');
        assert.equal(bob.status, 201);
        const signedIn = await exchange(f, await idTokenOf(f, 'bob'));
        assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
        assert.equal(signedIn.body.orgId, f.t.owner.orgId);
        assert.notEqual(signedIn.body.userId, bob.body.id);
      } finally {
        await f.close();
      }
    });

    test('token exchange is off unless turned on', async () => {
      const f = await startOidcFixture(backend, { settings: { tokenExchange: false } });
      try {
        const shown = await f.t.request<{ tokenExchange: boolean }>('GET', '/v1/org/oidc');
        assert.equal(shown.body.tokenExchange, false);
        const refused = await exchange(f, await idTokenOf(f, 'carol'));
        assert.equal(refused.status, 401);
        assert.match(refused.body.message, /--token-exchange on/);
        assert.deepEqual(await refusalReasons(f), ['token exchange off']);
      } finally {
        await f.close();
      }
    });

    test('each ID token gives one session, of at most an hour', async () => {
      const f = await startOidcFixture(backend);
      try {
        const idToken = await idTokenOf(f, 'carol');
        const first = await exchange(f, idToken);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        const lastsMs = Date.parse(first.body.expiresAt) - Date.now();
        assert.ok(lastsMs <= 3600_000, `the session lasts ${lastsMs} ms`);
        const second = await exchange(f, idToken);
        assert.equal(second.status, 401);
        assert.match(second.body.message, /already traded/);

        // The same jti in a token signed again is the same token; another one is not.
        const withJti = await exchange(f, await idTokenOf(f, 'carol', { jti: 'j-1' }));
        assert.equal(withJti.status, 200);
        const sameJti = await exchange(f, await idTokenOf(f, 'carol', { jti: 'j-1', nonce: 'x' }));
        assert.equal(sameJti.status, 401);
        const otherJti = await exchange(f, await idTokenOf(f, 'carol', { jti: 'j-2' }));
        assert.equal(otherJti.status, 200);
        assert.deepEqual(await refusalReasons(f), ['token replayed', 'token replayed']);
      } finally {
        await f.close();
      }
    });
  });
}

describe('issuer discovery', () => {
  test('every discovery failure gets one answer; the log has the detail', async () => {
    assert.ok(sqlite);
    let requests = 0;
    const internal = createServer((_request, response) => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ issuer: 'internal-secret-value' }));
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    const open = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const shut = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let log = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        log += String(chunk);
        done();
      },
    });
    const loopback = await startTestControlPlane(
      sqlite,
      { oidcAllowHttpLoopbackIssuers: true },
      { logger: pino({ level: 'info' }, sink) },
    );
    const strict = await startTestControlPlane(sqlite);
    try {
      const put = (t: typeof strict, issuer: string) =>
        t.request<ErrorBody>('PUT', '/v1/org/oidc', {
          body: { issuer, clientId: 'x', clientSecret: 'y' },
        });
      const wrong = await put(loopback, open);
      const unreachable = await put(loopback, shut);
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.message, unreachable.body.message, 'open and closed look alike');
      assert.deepEqual(wrong.body.fields, unreachable.body.fields);
      assert.doesNotMatch(wrong.body.message, /internal-secret-value|ECONNREFUSED|127\.0\.0\.1/);
      assert.match(log, /internal-secret-value/, 'the log says what was wrong');
      assert.match(log, /ECONNREFUSED/);

      const seen = requests;
      const refused = await put(strict, open);
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /oidcAllowHttpLoopbackIssuers/);
      assert.equal(requests, seen, 'nothing was fetched');
    } finally {
      await loopback.close();
      await strict.close();
      internal.close();
    }
  });
});

describe('migration 6', () => {
  test('keys existing users by organization', async () => {
    assert.ok(sqlite);
    const handle = await sqlite.open({ migrate: false });
    try {
      await migrate(handle.db, { migrations: migrations.filter((item) => item.version < 6) });
      await handle.db.execute(`INSERT INTO orgs (id, name, created_at) VALUES ('org_a', 'a', 1)`);
      await handle.db.execute(
        `INSERT INTO users (id, org_id, external_key, role, created_at)
         VALUES ('usr_a', 'org_a', 'oidc:https://id.example.test#ann', 'member', 1),
                ('usr_b', 'org_a', 'local:owner', 'owner', 1)`,
      );
      await migrate(handle.db);
      const rows = await handle.db.query<{ external_key: string }>(
        'SELECT external_key FROM users ORDER BY id',
      );
      assert.deepEqual(
        rows.map((row) => row.external_key),
        ['oidc:org_a:https://id.example.test#ann', 'local:owner'],
      );
    } finally {
      await handle.close();
    }
  });
});
