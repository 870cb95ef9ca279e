import type { paths } from './api-types.js';
import { resultOf, type Client, type Result, type WebSession } from './client.js';

type StartLogin = paths['/v1/auth/login']['post'];
type StartLoginAnswer = StartLogin['responses'][200]['content']['application/json'];

/** What a sign-in at the provider keeps in this tab until the browser comes back. */
const pendingKey = 'hangar.pending-sign-in';

interface PendingSignIn {
  loginId: string;
  codeVerifier: string;
}

/** The session this browser is signed in with, if any (the cookie is HttpOnly: ask). */
export async function currentSession(client: Client): Promise<Result<WebSession>> {
  return resultOf(client.GET('/v1/auth/web-session'));
}

/** Signs in with an API token: the control plane answers with a session cookie of its own. */
export function signInWithToken(client: Client, token: string): Promise<Result<WebSession>> {
  return resultOf(client.POST('/v1/auth/web-session', { body: { token } }));
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** A PKCE verifier and its S256 challenge, made with the browser's own random source. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

/**
 * Starts a sign-in at the organization's OpenID provider. The page keeps its PKCE verifier in
 * this tab, so only the tab that started the sign-in can finish it; returns where to go.
 */
export async function startProviderSignIn(
  client: Client,
  org: string | undefined,
): Promise<Result<StartLoginAnswer>> {
  const { verifier, challenge } = await pkcePair();
  const started = await resultOf(
    client.POST('/v1/auth/login', {
      body: {
        ...(org ? { org } : {}),
        redirectUri: `${location.origin}/sign-in/callback`,
        codeChallenge: challenge,
      },
    }),
  );
  if (started.ok) {
    const pending: PendingSignIn = { loginId: started.data.loginId, codeVerifier: verifier };
    sessionStorage.setItem(pendingKey, JSON.stringify(pending));
  }
  return started;
}

/**
 * The provider sent the browser back to `/sign-in/callback?code=…`: trade the code. Only a
 * sign-in this tab started is finished, and a refusal is told in fixed words with the error's
 * code alone: the page never shows text a link can bring (`error_description`).
 */
export async function finishProviderSignIn(
  client: Client,
  search: string,
): Promise<Result<WebSession>> {
  const query = new URLSearchParams(search);
  const saved = sessionStorage.getItem(pendingKey);
  sessionStorage.removeItem(pendingKey);
  const refused = (message: string): Result<WebSession> => ({ ok: false, message, status: 400 });
  const code = query.get('code');
  if (!saved) return refused('this sign-in was not started in this tab; start again');
  const error = query.get('error');
  if (error !== null) {
    const named = /^[a-z_]{1,40}$/.test(error) ? ` (${error})` : '';
    return refused(`the sign-in was refused${named}; start again, or ask an administrator`);
  }
  if (!code) return refused('the sign-in came back without a code; start again');
  const pending = JSON.parse(saved) as PendingSignIn;
  return resultOf(
    client.POST('/v1/auth/web-session', {
      body: { loginId: pending.loginId, code, codeVerifier: pending.codeVerifier },
    }),
  );
}

/** Ends the session on the control plane, which also clears the cookie. */
export async function signOut(client: Client): Promise<Result<unknown>> {
  return resultOf(client.DELETE('/v1/auth/web-session'));
}
