import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api-types.js';

export type Client = ReturnType<typeof createClient<paths>>;

/** The JSON body of one response (or request body) of `paths`. */
export type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

export type Environment = Json<
  paths['/v1/environments']['get']['responses'][200]
>['environments'][number];

export type CreateEnvironmentBody = NonNullable<
  paths['/v1/environments']['post']['requestBody']
>['content']['application/json'];

export type WebSession = Json<paths['/v1/auth/web-session']['get']['responses'][200]>;

export type Role = WebSession['role'];

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The typed client for the control plane that served this page. It is signed in by the session
 * cookie the browser sends by itself (the page never holds the session token); every request
 * that changes something carries the session's CSRF token.
 */
export function clientFor(baseUrl: string, csrfToken: () => string | undefined): Client {
  const client = createClient<paths>({ baseUrl, credentials: 'same-origin' });
  const csrf: Middleware = {
    onRequest({ request }) {
      const token = csrfToken();
      if (token && !safeMethods.has(request.method)) request.headers.set('x-csrf-token', token);
      return request;
    },
  };
  client.use(csrf);
  return client;
}

/** The message of an API error body (`{ code, message }`), or a fallback naming the status. */
export function messageOf(error: unknown, response: Response): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message } = error;
    if (typeof message === 'string') return message;
  }
  return `the control plane answered ${response.status} ${response.statusText}`.trim();
}

/** The outcome of one call: its data, or a message saying what went wrong. */
export type Result<T> = { ok: true; data: T } | { ok: false; message: string; status: number };

/**
 * Runs one openapi-fetch call and folds it into a Result, so a page shows every failure, a
 * network error included, in the same words.
 */
export async function resultOf<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> {
  try {
    const { data, error, response } = await call;
    if (response.ok) return { ok: true, data: data as T };
    return { ok: false, message: messageOf(error, response), status: response.status };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `the control plane could not be reached (${detail})`, status: 0 };
  }
}
