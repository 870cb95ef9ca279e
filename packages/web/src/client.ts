import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api-types.js';

export type Client = ReturnType<typeof createClient<paths>>;

type ListResponse =
  paths['/v1/environments']['get']['responses'][200]['content']['application/json'];

export type Environment = ListResponse['environments'][number];

export type CreateEnvironmentBody = NonNullable<
  paths['/v1/environments']['post']['requestBody']
>['content']['application/json'];

/** The typed client for the control plane this page was served by, signed in with `token`. */
export function clientFor(token: string, baseUrl: string): Client {
  const client = createClient<paths>({ baseUrl });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };
  client.use(bearer);
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
