import { SignInRefused } from './refusal.js';
import type { OrgOidcConfig } from './config-store.js';
import type { ProviderMetadata } from './discovery.js';

const requestTimeoutMs = 10_000;
export const signInScope = 'openid email profile';

/** What the token endpoint answered: an ID token, or an OAuth error code. */
export type TokenAnswer = { ok: true; idToken: string } | { ok: false; error: string };

function basicAuth(config: OrgOidcConfig): string {
  const pair = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret ?? '')}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

async function postForm(
  url: string,
  config: OrgOidcConfig,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: basicAuth(config),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  } catch (error) {
    throw new SignInRefused('provider error', 'the OpenID provider could not be reached', {
      cause: error,
    });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new SignInRefused('provider error', 'the OpenID provider answered something not JSON', {
      cause: error,
    });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SignInRefused('provider error', 'the OpenID provider answered an odd body');
  }
  return { status: response.status, body: body as Record<string, unknown> };
}

function tokenAnswer(answer: { status: number; body: Record<string, unknown> }): TokenAnswer {
  const { status, body } = answer;
  if (status >= 200 && status < 300 && typeof body.id_token === 'string') {
    return { ok: true, idToken: body.id_token };
  }
  const error = typeof body.error === 'string' ? body.error.slice(0, 100) : `http_${status}`;
  return { ok: false, error };
}

/** Trades an authorization code for tokens, with the client secret and the PKCE verifier. */
export async function exchangeCode(options: {
  metadata: ProviderMetadata;
  config: OrgOidcConfig;
  code: string;
  codeVerifier: string;
  redirectUri: string;
}): Promise<TokenAnswer> {
  return tokenAnswer(
    await postForm(options.metadata.tokenEndpoint, options.config, {
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier,
    }),
  );
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  intervalS: number;
  expiresInS: number;
}

/** RFC 8628 section 3.1: asks the provider for a device code and the code a person types. */
export async function startDeviceAuthorization(options: {
  metadata: ProviderMetadata;
  config: OrgOidcConfig;
}): Promise<DeviceAuthorization> {
  const endpoint = options.metadata.deviceAuthorizationEndpoint;
  if (!endpoint) {
    throw new SignInRefused(
      'provider error',
      'the OpenID provider offers no device flow (device_authorization_endpoint); sign in ' +
        'with the browser instead',
    );
  }
  const { status, body } = await postForm(endpoint, options.config, {
    client_id: options.config.clientId,
    scope: signInScope,
  });
  const text = (name: string) => (typeof body[name] === 'string' ? body[name] : undefined);
  const deviceCode = text('device_code');
  const userCode = text('user_code');
  const verificationUri = text('verification_uri');
  if (status !== 200 || !deviceCode || !userCode || !verificationUri) {
    throw new SignInRefused(
      'provider error',
      `the OpenID provider refused the device sign-in (${text('error') ?? `HTTP ${status}`})`,
    );
  }
  const complete = text('verification_uri_complete');
  return {
    deviceCode,
    userCode,
    verificationUri,
    ...(complete ? { verificationUriComplete: complete } : {}),
    intervalS: typeof body.interval === 'number' ? Math.max(1, body.interval) : 5,
    expiresInS: typeof body.expires_in === 'number' ? body.expires_in : 600,
  };
}

/** RFC 8628 section 3.4: one poll of the token endpoint with the device code. */
export async function pollDeviceToken(options: {
  metadata: ProviderMetadata;
  config: OrgOidcConfig;
  deviceCode: string;
}): Promise<TokenAnswer> {
  return tokenAnswer(
    await postForm(options.metadata.tokenEndpoint, options.config, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: options.deviceCode,
      client_id: options.config.clientId,
    }),
  );
}
