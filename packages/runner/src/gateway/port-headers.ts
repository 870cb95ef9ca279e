import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { appCookies, bearerGrant, grantCookie } from './port-access.js';
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

/**
 * What the app gets of the client's headers: hop-by-hop ones dropped (an upgrade keeps its
 * two), the grant cookie and a hangar bearer taken out, `Host` as the app would see a local
 * client, and the public host, scheme, client address and path prefix as `X-Forwarded-*`.
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
    if (value === undefined || drop.has(name) || name.startsWith('x-forwarded-')) continue;
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
  return headers;
}

/**
 * What the client gets of the app's headers: hop-by-hop ones dropped, and no cookie of the
 * grant's name (an app cannot replace the grant). For the path form, a redirect to an absolute
 * path and a cookie's `Path` are moved under `/ports/<env>/<port>`, so that an app's cookies
 * stay with its own port.
 */
export function appResponseHeaders(
  answer: IncomingMessage,
  target: PortTarget,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined || hopByHop.has(name) || name === 'set-cookie') continue;
    headers[name] = value;
  }
  const cookies = (answer.headers['set-cookie'] ?? []).filter(
    (cookie) => cookie.split('=')[0]?.trim() !== grantCookie,
  );
  if (target.form !== 'path') {
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    return headers;
  }
  const location = answer.headers.location;
  if (location?.startsWith('/') && !location.startsWith('//')) {
    headers.location = `${target.prefix}${location}`;
  }
  if (cookies.length > 0) {
    headers['set-cookie'] = cookies.map((cookie) =>
      cookie.replace(/;\s*path=([^;]*)/i, (_all, path: string) => {
        const under = path.trim().startsWith('/') ? path.trim() : '/';
        return `; Path=${target.prefix}${under}`;
      }),
    );
  }
  return headers;
}
