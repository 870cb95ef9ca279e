import assert from 'node:assert/strict';
import { testBackends } from '@hangar/control-plane/storage/testing.js';
import {
  startTestControlPlane,
  type TestControlPlane,
} from '@hangar/control-plane/testing/harness.js';
import {
  startTestOidcProvider,
  type TestOidcProvider,
} from '@hangar/control-plane/testing/oidc-provider.js';

/**
 * A control plane on SQLite whose organization signs in at a real OpenID provider on loopback,
 * for the sign-in tests of the CLI and the dashboard.
 */
export async function startSignInSetup(): Promise<{
  t: TestControlPlane;
  provider: TestOidcProvider;
}> {
  const [sqlite] = testBackends();
  assert.ok(sqlite);
  const t = await startTestControlPlane(sqlite, { oidcAllowHttpLoopbackIssuers: true });
  const provider = await startTestOidcProvider({ redirectUris: [`${t.url}/v1/auth/callback`] });
  const put = await t.request('PUT', '/v1/org/oidc', {
    body: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
    },
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  return { t, provider };
}
