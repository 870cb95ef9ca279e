import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a browser page of an allowed origin may send: a grant as a bearer token, and JSON. */
const allowedMethods = 'GET, POST, PUT, DELETE';
const allowedHeaders = 'authorization, content-type';
const preflightMaxAgeS = 600;

/**
 * Lets the dashboard's pages call the gateway's API from the browser. Only the origins the
 * runner trusts get an `Access-Control-Allow-Origin`, and never with credentials: the gateway
 * reads no cookie for its API, a request carries its grant in `Authorization`, so a page that
 * holds no grant gains nothing. Answers a preflight itself and returns true then; otherwise sets
 * the response headers and returns false for the request to go on.
 */
export function applyCors(
  request: IncomingMessage,
  response: ServerResponse,
  allowedOrigins: readonly string[],
): boolean {
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || !allowedOrigins.includes(origin)) return false;
  response.setHeader('access-control-allow-origin', origin);
  response.setHeader('vary', 'Origin');
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (!preflight) return false;
  response.setHeader('access-control-allow-methods', allowedMethods);
  response.setHeader('access-control-allow-headers', allowedHeaders);
  response.setHeader('access-control-max-age', String(preflightMaxAgeS));
  response.writeHead(204).end();
  return true;
}
