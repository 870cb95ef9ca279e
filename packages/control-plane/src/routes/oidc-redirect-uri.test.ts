import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OidcConfig } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { startTestOidcProvider, type TestOidcProvider } from '../testing/oidc-provider.js';

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

test('the OpenID settings name the redirect URI to register: the public URL, else the host', async () => {
  const put = await t.request<OidcConfig>('PUT', '/v1/org/oidc', {
    body: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
    },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.redirectUri, `${t.url}/v1/auth/callback`);

  // A control plane behind a proxy is reached at its public URL, which the provider must name.
  t.cp.context.config.publicUrl = 'https://hangar.example.internal/';
  const got = await t.request<OidcConfig>('GET', '/v1/org/oidc');
  assert.equal(got.body.redirectUri, 'https://hangar.example.internal/v1/auth/callback');
});

test('a required claim of null removes it; one left out is kept', async () => {
  const base = { issuer: provider.issuer, clientId: provider.clientId };
  const put = (body: object) => t.request<OidcConfig>('PUT', '/v1/org/oidc', { body });
  const claim = { name: 'groups', value: 'dev' };
  assert.deepEqual((await put({ ...base, requiredClaim: claim })).body.requiredClaim, claim);
  assert.deepEqual((await put(base)).body.requiredClaim, claim);
  const cleared = await put({ ...base, requiredClaim: null });
  assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
  assert.equal(cleared.body.requiredClaim, undefined);
  const audit = await t.request<{ records: { details: Record<string, unknown> }[] }>(
    'GET',
    '/v1/audit?action=org.oidc.update',
  );
  const last = audit.body.records.at(-1);
  assert.equal(last?.details['oldRequiredClaim'], 'groups=dev');
  assert.equal(last?.details['newRequiredClaim'], null);
});
