import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

/** What the test provider says about a person; by default a verified e-mail and a name. */
export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  [claim: string]: unknown;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claims the provider hands out for a subject (what its login form was given). */
  accountOf(subject: string): TestAccount;
  /**
   * Signs a token with the provider's own key, as the provider would, with the claims given
   * (iss defaults to this issuer): for cases a real flow cannot make, such as an expired token.
   */
  sign(claims: JWTPayload, options?: { kid?: string; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

interface PageContext {
  body: string;
}

/** The device flow's pages without the default ones' web fonts: they load nothing. */
function plainPage(ctx: PageContext, title: string, form: string): void {
  const button = form.includes('op.deviceInputForm')
    ? 'op.deviceInputForm'
    : 'op.deviceConfirmForm';
  const submit = form ? `<button type="submit" form="${button}">Continue</button>` : '';
  ctx.body = `<!doctype html><html><body><h1>${title}</h1>${form}${submit}</body></html>`;
}

function defaultAccount(subject: string): TestAccount {
  return { email: `${subject}@example.test`, email_verified: true, name: `Person ${subject}` };
}

/**
 * A real OpenID provider (the oidc-provider package) on 127.0.0.1:0 with one confidential
 * client for the control plane: authorization code with PKCE and the device flow, its own
 * development login pages (any login name is the subject), consent taken as given, RS256 ID
 * tokens that carry the e-mail and name claims.
 */
export async function startTestOidcProvider(options: {
  redirectUris: string[];
  accounts?: Record<string, TestAccount>;
  clientId?: string;
}): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = options.clientId ?? 'hangar-control-plane';
  const clientSecret = randomBytes(24).toString('base64url');
  const kid = randomBytes(8).toString('hex');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const accountOf = (subject: string) => options.accounts?.[subject] ?? defaultAccount(subject);

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    ttl: {
      AccessToken: 600,
      DeviceCode: 600,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx: PageContext, form: string) => plainPage(ctx, 'Sign-in', form),
        userCodeConfirmSource: (ctx: PageContext, form: string, ...rest: unknown[]) =>
          plainPage(ctx, 'Confirm device', `<p>${String(rest[2])}</p>${form}`),
        successSource: (ctx: PageContext) => plainPage(ctx, 'Sign-in success', ''),
      },
    },
    findAccount: (_ctx: unknown, subject: string) => ({
      accountId: subject,
      claims: () => ({ sub: subject, ...accountOf(subject) }),
    }),
    loadExistingGrant: async (ctx: {
      oidc: { client?: { clientId: string }; session?: { accountId?: string } };
    }) => {
      const accountId = ctx.oidc.session?.accountId;
      const client = ctx.oidc.client;
      if (!accountId || !client) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    accountOf,
    async sign(claims, signOptions = {}) {
      const alg = signOptions.alg ?? 'RS256';
      return new SignJWT({ iss: issuer, ...claims })
        .setProtectedHeader({ alg, kid: signOptions.kid ?? kid })
        .sign(privateKey);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
