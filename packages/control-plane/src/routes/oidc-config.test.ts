import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord, OidcConfig } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider.js';
import { addUser } from '../testing/users.js';

const [sqlite] = testBackends();
let t: TestControlPlane;
let provider: TestOidcProvider;

before(async () => {
  assert.ok(sqlite);
  t = await startTestControlPlane(sqlite, { oidcAllowHttpLoopbackIssuers: true });
  provider = await startTestOidcProvider({ redirectUris: [`${t.url}/v1/auth/callback`] });
});
after(async () => {
  await provider.close();
  await t.close();
});

type Problem = { fields?: { field: string; message: string }[]; message: string; code: string };

async function refusedField(method: string, path: string, body: unknown, field: string) {
  const response = await t.request<Problem>(method, path, { token: null, body });
  assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}: ${response.status}`);
  assert.equal(response.body.code, 'invalid_request');
  const fields = (response.body.fields ?? []).map((item) => item.field);
  assert.ok(fields.includes(field), `${field} not in ${JSON.stringify(response.body)}`);
}

describe('the organization OpenID provider settings', () => {
  test('PUT checks the issuer and each field, and names the field', async () => {
    const base = { issuer: provider.issuer, clientId: provider.clientId };
    const put = (body: unknown) => t.request<Problem>('PUT', '/v1/org/oidc', { body });
    const cases: [unknown, string][] = [
      [{ ...base, issuer: 'http://login.example.test' }, 'issuer'],
      [{ ...base, issuer: `${provider.issuer}/` }, 'issuer'],
      [{ ...base, issuer: 'http://127.0.0.1:1' }, 'issuer'],
      [base, 'clientSecret'],
      [{ ...base, clientSecret: 's', defaultRole: 'owner' }, 'defaultRole'],
      [{ ...base, clientSecret: 's', allowedDomains: ['Not A Domain'] }, 'allowedDomains.0'],
      [{ ...base, clientSecret: 's', requiredClaim: { name: 'groups' } }, 'requiredClaim.value'],
      [{ ...base, clientSecret: 's', storeProfile: 'yes' }, 'storeProfile'],
      [{ ...base, clientSecret: 's', extra: 1 }, 'extra'],
      [{ issuer: provider.issuer, clientSecret: 's' }, 'clientId'],
    ];
    for (const [body, field] of cases) {
      const response = await put(body);
      assert.equal(response.status, 400, `${field}: ${JSON.stringify(response.body)}`);
      const fields = (response.body.fields ?? []).map((item) => item.field);
      assert.ok(fields.includes(field), `${field} not in ${JSON.stringify(response.body)}`);
    }
    const mismatch = await put({ ...base, issuer: `${provider.issuer}/` });
    assert.match(mismatch.body.message, /discovery document could not be read, or does not/);
    assert.equal((await t.request('GET', '/v1/org/oidc')).status, 404, 'nothing was saved');
  });

  test('the secret is write-only, kept when left out, sealed at rest, never audited', async () => {
    const body = { issuer: provider.issuer, clientId: provider.clientId };
    const first = await t.request<OidcConfig>('PUT', '/v1/org/oidc', {
      body: { ...body, clientSecret: provider.clientSecret, allowedDomains: ['example.test'] },
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.clientSecretSet, true);
    assert.equal(first.body.defaultRole, 'member');
    assert.equal(first.body.storeProfile, false);
    const kept = await t.request<OidcConfig>('PUT', '/v1/org/oidc', {
      body: { ...body, defaultRole: 'auditor' },
    });
    assert.equal(kept.status, 200);
    assert.deepEqual(kept.body.allowedDomains, ['example.test']);
    const shown = await t.request<OidcConfig>('GET', '/v1/org/oidc');
    assert.equal(shown.body.defaultRole, 'auditor');
    assert.ok(!JSON.stringify(shown.body).includes(provider.clientSecret));
    const rows = await t.cp.context.db.query('SELECT * FROM oidc_configs');
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(provider.clientSecret));

    const audit = await t.request<{ records: AuditRecord[] }>(
      'GET',
      '/v1/audit?action=org.oidc.update',
    );
    const [made, changed] = audit.body.records;
    assert.equal(made?.details.clientSecretChanged, true);
    assert.equal(made?.details.newIssuer, provider.issuer);
    assert.equal(changed?.details.clientSecretChanged, false);
    assert.equal(changed?.details.changed, 'defaultRole');
    assert.equal(changed?.details.oldDefaultRole, 'member');
    assert.equal(changed?.details.newDefaultRole, 'auditor');
    assert.ok(!JSON.stringify(audit.body).includes(provider.clientSecret));
  });

  test('members, auditors and tokens without org:admin are refused', async () => {
    const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
    const narrow = await addUser(t.cp.context, {
      orgId: t.owner.orgId,
      role: 'admin',
      scopes: ['environments:read'],
    });
    for (const token of [member.token, narrow.token]) {
      assert.equal((await t.request('GET', '/v1/org/oidc', { token })).status, 403);
      const put = await t.request('PUT', '/v1/org/oidc', {
        token,
        body: { issuer: provider.issuer, clientId: 'x' },
      });
      assert.equal(put.status, 403);
      assert.equal((await t.request('DELETE', '/v1/org/oidc', { token })).status, 403);
    }
  });

  test('every sign-in body field is checked and named', async () => {
    const challenge = 'a'.repeat(43);
    const redirectUri = 'http://127.0.0.1:5000/callback';
    await refusedField('POST', '/v1/auth/login', { codeChallenge: challenge }, 'redirectUri');
    const badRedirects = [
      'https://127.0.0.1:5000/callback',
      'http://evil.example.test:5000/callback',
      'http://127.0.0.1/callback',
      'http://127.0.0.1:5000/callback?x=1',
    ];
    for (const uri of badRedirects) {
      await refusedField(
        'POST',
        '/v1/auth/login',
        { redirectUri: uri, codeChallenge: challenge },
        'redirectUri',
      );
    }
    await refusedField(
      'POST',
      '/v1/auth/login',
      { redirectUri, codeChallenge: 'short' },
      'codeChallenge',
    );
    await refusedField(
      'POST',
      '/v1/auth/login',
      { redirectUri, codeChallenge: challenge, org: '' },
      'org',
    );
    const loginId = 'lgn_0000000000000000';
    await refusedField(
      'POST',
      '/v1/auth/login/complete',
      { loginId, code: 'c'.repeat(43) },
      'codeVerifier',
    );
    await refusedField(
      'POST',
      '/v1/auth/login/complete',
      { loginId, code: 'c'.repeat(43), codeVerifier: 'has spaces in it'.repeat(4) },
      'codeVerifier',
    );
    await refusedField(
      'POST',
      '/v1/auth/login/complete',
      { loginId: 'x', code: 'c'.repeat(43), codeVerifier: 'v'.repeat(43) },
      'loginId',
    );
    await refusedField('POST', '/v1/auth/device', { org: 'test', extra: true }, 'extra');
    await refusedField('POST', '/v1/auth/device/poll', { loginId }, 'pollSecret');
    await refusedField('POST', '/v1/auth/token-exchange', { org: 'test' }, 'idToken');
  });

  test('an unknown organization and one without a provider are refused alike, and audited', async () => {
    const body = (org: string) => ({ org, idToken: 'a.b.c-not-a-token' });
    const unknown = await t.request<Problem>('POST', '/v1/auth/token-exchange', {
      token: null,
      body: body('no-such-org'),
    });
    assert.equal(unknown.status, 401);
    assert.match(
      unknown.body.message,
      /no organization named no-such-org has an OpenID provider; `hangar whoami` shows/,
    );
    const system = await t.cp.context.audit.export('system');
    assert.ok(
      system.records.some(
        (r) => r.action === 'auth.login' && r.details.reason === 'not configured',
      ),
    );
  });
});
