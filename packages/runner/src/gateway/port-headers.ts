import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { HangarError } from '@hangar/api';
import { appCookies, bearerGrant, reservedCookies } from './port-access.js';
import type { PortTarget } from './port-target.js';

/** Headers of one hop only: never passed on (RFC 9110 section 7.6.1). */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Headers naming the client or a proxy: only the gateway's own reach the app. */
const forwardingHeaders = new Set(['forwarded', 'x-real-ip', 'proxy-authorization']);

/**
 * How a request's body is framed for the app: by its `Content-Length`, as `chunked`, or none.
 * Any other transfer coding is refused, since the app might read its end differently from the
 * gateway and take the rest of the body for a request of its own.
 */
export function bodyFraming(request: IncomingMessage): 'length' | 'chunked' | 'none' {
  const coding = request.headers['transfer-encoding'];
  if (coding !== undefined) {
    if (coding.trim().toLowerCase() === 'chunked') return 'chunked';
    throw new HangarError(
      'invalid_request',
      `Transfer-Encoding ${JSON.stringify(coding.slice(0, 100))} is not accepted: ` +
        'send the body with Content-Length or Transfer-Encoding: chunked alone',
    );
  }
  return request.headers['content-length'] === undefined ? 'none' : 'length';
}

/**
 * What the app gets of the client's headers: hop-by-hop ones dropped (an upgrade keeps its
 * two, a chunked body its framing), the grant cookie and a hangar bearer taken out, any
 * forwarding header of the client's dropped, `Host` as the app would see a local client, and
 * the public host, scheme, client address and path prefix as `X-Forwarded-*`.
 */
export function appRequestHeaders(
  request: IncomingMessage,
  target: PortTarget,
  options: { upgrade?: boolean; secure: boolean },
): OutgoingHttpHeaders {
  const named = (request.headers.connection ?? '').toLowerCase().split(',');
  const drop = new Set([...hopByHop, ...named.map((name) => name.trim())]);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || drop.has(name) || forwardingHeaders.has(name)) continue;
    if (name.startsWith('x-forwarded-')) continue;
    if (name === 'host' || name === 'cookie') continue;
    if (name === 'authorization' && bearerGrant(request)) continue;
    headers[name] = value;
  }
  const cookies = appCookies(request);
  if (cookies) headers.cookie = cookies;
  headers.host = `localhost:${target.port}`;
  headers['x-forwarded-host'] = request.headers.host ?? '';
  headers['x-forwarded-proto'] = options.secure ? 'https' : 'http';
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '';
  if (target.prefix) headers['x-forwarded-prefix'] = target.prefix;
  if (options.upgrade) {
    headers.connection = 'Upgrade';
    headers.upgrade = request.headers.upgrade ?? 'websocket';
  } else {
    headers.connection = 'close';
  }
  if (bodyFraming(request) === 'chunked') headers['transfer-encoding'] = 'chunked';
  return headers;
}

/**
 * What the client gets of the app's headers: hop-by-hop ones dropped, and no cookie of a
 * reserved name (an app cannot replace the grant or plant a dashboard session). A cookie loses every `Domain`, so that a port
 * cannot set one for its neighbours' hosts. For the path form, which shares one origin among
 * all ports, a redirect to an absolute path and a cookie's `Path` are moved under
 * `/ports/<env>/<port>`, so that an app's cookies stay with its own port, and
 * `Service-Worker-Allowed` is dropped, so that no worker of a port covers another.
 */
export function appResponseHeaders(
  answer: IncomingMessage,
  target: PortTarget,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'set-cookie') continue;
    if (target.form === 'path' && name === 'service-worker-allowed') continue;
    headers[name] = value;
  }
  const cookies = (answer.headers['set-cookie'] ?? [])
    .filter((cookie) => !reservedCookies.has(cookie.split('=')[0]?.trim() ?? ''))
    .map((cookie) => scopedCookie(cookie, target));
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const location = answer.headers.location;
  if (target.form === 'path' && location?.startsWith('/') && !location.startsWith('//')) {
    headers.location = `${target.prefix}${location}`;
  }
  return headers;
}

/**
 * One `Set-Cookie` value without its `Domain` attributes; for the path form, its `Path`
 * attributes become one under the port's prefix, from the last (the one a browser keeps).
 */
function scopedCookie(cookie: string, target: PortTarget): string {
  const [pair = '', ...attributes] = cookie.split(';');
  const nameOf = (attribute: string) => (attribute.split('=')[0] ?? '').trim().toLowerCase();
  const kept = attributes.filter((attribute) => nameOf(attribute) !== 'domain');
  if (target.form !== 'path') return [pair, ...kept].join(';');
  const paths = kept.filter((attribute) => nameOf(attribute) === 'path');
  if (paths.length === 0) return [pair, ...kept].join(';');
  const last = paths.at(-1) ?? '';
  const path = last.slice(last.indexOf('=') + 1).trim();
  const under = path.startsWith('/') ? path : '/';
  const others = kept.filter((attribute) => nameOf(attribute) !== 'path');
  return [pair, ...others, ` Path=${target.prefix}${under}`].join(';');
}

/**
 * In the path form every port shares the gateway's origin, so a service worker one port's page
 * registers would see the requests of every port: its script is refused.
 */
export function refuseServiceWorker(request: IncomingMessage, target: PortTarget): void {
  if (target.form !== 'path' || request.headers['service-worker'] !== 'script') return;
  throw new HangarError(
    'forbidden',
    `a service worker cannot be registered at ${target.prefix}/: the path form shares one ` +
      'origin among all ports; open the port by its host URL (a ports domain) to use one',
  );
}

/** The status line and headers of an answer, for a raw socket. */
export function responseHead(answer: IncomingMessage, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
