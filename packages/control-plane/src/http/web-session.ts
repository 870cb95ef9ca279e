import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HangarError, sessionCookieNames } from '@hangar/api';

/**
 * The dashboard's session lives in a cookie the page's scripts cannot read (HttpOnly), sent only
 * to this origin and never on a request another site starts (SameSite=Strict). Over TLS it is
 * Secure and takes the `__Host-` prefix, which also pins it to this host and path `/`.
 */
const [plainCookie, hostCookie] = sessionCookieNames;

export const csrfHeader = 'x-csrf-token';

/** Methods that change nothing; every other one needs the CSRF token when the cookie signs it. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every session cookie the request carries, of either name. A browser sends one of ours; more
 * than one means a page on another port of this host (which shares its cookies) planted one.
 */
export function sessionCookiesOf(request: FastifyRequest): string[] {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return [];
  const found: string[] = [];
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    const name = at > 0 ? part.slice(0, at).trim() : '';
    if (name === plainCookie || name === hostCookie) found.push(part.slice(at + 1).trim());
  }
  return found;
}

/** The session token in the request's cookie, if it carries exactly one. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const found = sessionCookiesOf(request);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * `Set-Cookie` values that expire a planted session cookie wherever the browser may hold it for
 * this request: under each folder of its path. A script cannot replace our HttpOnly cookie at
 * `/`, only add one at a deeper path (or, over TLS where ours is `__Host-`, one of the plain
 * name at `/` too), and a cookie is sent only for paths under its own.
 */
export function plantedCookieExpiries(request: FastifyRequest, secure: boolean): string[] {
  const segments = (request.url.split('?')[0] ?? '').split('/').filter(Boolean);
  const paths = segments.map((_, index) => `/${segments.slice(0, index + 1).join('/')}`);
  if (secure) paths.unshift('/');
  return paths.map((path) => `${plainCookie}=; Path=${path}; Max-Age=0`);
}

/** Whether the page reached this control plane over TLS (its public URL says so, or the socket). */
export function isSecure(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return publicUrl ? publicUrl.startsWith('https:') : request.protocol === 'https';
}

export function setSessionCookie(
  reply: FastifyReply,
  token: string,
  options: { secure: boolean; maxAgeS: number },
): void {
  const name = options.secure ? hostCookie : plainCookie;
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${options.maxAgeS}`];
  if (options.secure) attributes.push('Secure');
  reply.header('set-cookie', `${name}=${token}; ${attributes.join('; ')}`);
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  const name = secure ? hostCookie : plainCookie;
  const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0'];
  if (secure) attributes.push('Secure');
  reply.header('set-cookie', `${name}=; ${attributes.join('; ')}`);
}

/**
 * The CSRF token of a session: an HMAC keyed with the session token itself, so only who holds
 * the cookie's value (the control plane, not the page, not another site) can compute it. The
 * page gets it from `GET /v1/auth/web-session`, which another site cannot read.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('hangar-csrf-v1').digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The origins this control plane's own pages are served from. */
function ownOrigins(request: FastifyRequest, publicUrl: string | undefined): string[] {
  const origins = [`${request.protocol}://${request.host}`];
  if (publicUrl) origins.push(new URL(publicUrl).origin);
  return origins;
}

/**
 * Refuses a request from another site's page: an `Origin` that is not this control plane's.
 * Requests without one (the CLI, curl, same-origin GETs) pass; the cookie's SameSite and the
 * CSRF token guard those.
 */
export function checkOrigin(request: FastifyRequest, publicUrl: string | undefined): void {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return;
  if (!ownOrigins(request, publicUrl).includes(origin)) {
    throw new HangarError(
      'forbidden',
      `a page from ${origin.slice(0, 100)} may not call this control plane; use the dashboard it serves`,
    );
  }
}

/**
 * A request signed in by the session cookie that changes something must come from this control
 * plane's own page: the right Origin, if any, and the session's CSRF token in `X-CSRF-Token`.
 */
export function checkCookieRequest(
  request: FastifyRequest,
  sessionToken: string,
  publicUrl: string | undefined,
): void {
  checkOrigin(request, publicUrl);
  if (safeMethods.has(request.method)) return;
  const sent = request.headers[csrfHeader];
  if (typeof sent !== 'string' || !sameText(sent, csrfTokenFor(sessionToken))) {
    throw new HangarError(
      'forbidden',
      'this request needs the session CSRF token in X-CSRF-Token (from GET /v1/auth/web-session)',
    );
  }
}
