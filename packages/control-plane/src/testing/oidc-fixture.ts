import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestBackend } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from './harness.js';
import { startTestOidcProvider, type TestAccount, type TestOidcProvider } from './oidc-provider.js';

export interface OidcFixture {
  t: TestControlPlane;
  provider: TestOidcProvider;
  close(): Promise<void>;
}

/**
 * A control plane that allows loopback providers and a test OpenID provider whose client sends
 * the browser back to it, with the organization's provider set through `PUT /v1/org/oidc`, token
 * exchange on (`settings` adds to the body and may turn it off).
 */
export async function startOidcFixture(
  backend: TestBackend,
  options: { settings?: Record<string, unknown>; accounts?: Record<string, TestAccount> } = {},
): Promise<OidcFixture> {
  const t = await startTestControlPlane(backend, { oidcAllowHttpLoopbackIssuers: true });
  const provider = await startTestOidcProvider({
    redirectUris: [`${t.url}/v1/auth/callback`],
    ...(options.accounts ? { accounts: options.accounts } : {}),
  });
  const put = await t.request('PUT', '/v1/org/oidc', {
    body: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      tokenExchange: true,
      ...options.settings,
    },
  });
  if (put.status !== 200) throw new Error(`PUT /v1/org/oidc answered ${put.status}`);
  return {
    t,
    provider,
    async close() {
      await t.close();
      await provider.close();
    },
  };
}

/** A PKCE verifier and its S256 challenge, as the CLI makes them. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A loopback listener that plays the CLI's redirect target and keeps the query it got. */
export async function startRedirectCatcher() {
  let resolveQuery: (query: URLSearchParams) => void = () => undefined;
  const received = new Promise<URLSearchParams>((resolve) => (resolveQuery = resolve));
  const server = createServer((request, response) => {
    resolveQuery(new URL(request.url ?? '/', 'http://127.0.0.1').searchParams);
    response.writeHead(200, { 'content-type': 'text/plain' }).end('caught');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
