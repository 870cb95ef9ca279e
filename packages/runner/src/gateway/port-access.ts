import type { IncomingMessage } from 'node:http';
import {
  HangarError,
  verifyAccessToken,
  type AccessClaims,
  type Actor,
  type DesiredEnvironment,
  type PortShareLevel,
  sessionCookieNames,
} from '@hangar/api';
import type { RunnerIdentity } from '../identity.js';
import { tokenProblems } from './access.js';
import type { PortTarget } from './port-target.js';

/** The cookie a port grant is kept in once exchanged; scoped to one port of one environment. */
export const grantCookie = 'hangar_port_grant';

/**
 * Cookies an app behind the proxy never sees nor sets: the port grant, and the dashboard's
 * session, which the browser also sends here when the control plane shares this host name.
 */
export const reservedCookies: ReadonlySet<string> = new Set([grantCookie, ...sessionCookieNames]);
/** The query parameter a link carries its grant in: exchanged for the cookie, never proxied. */
export const grantParam = 'hangar_grant';

export const anonymous: Actor = { kind: 'system', id: 'anonymous' };

export type PortAdmission =
  | {
      ok: true;
      level: PortShareLevel;
      actor: Actor;
      /** The grant's id, or `public` when none was needed. */
      grant: string;
      /** A grant from the link: set it as the cookie and redirect without it. */
      exchange?: { token: string; expiresAtS: number };
    }
  | { ok: false; error: HangarError; actor?: Actor };

/** The share level the control plane set for the port; a port it does not list is private. */
export function levelOf(desired: DesiredEnvironment, port: number): PortShareLevel {
  return desired.ports.find((share) => share.port === port)?.level ?? 'private';
}

/** Every value of the grant cookie the request carries (a page may have set more than one). */
function cookieGrants(request: IncomingMessage): string[] {
  const header = request.headers.cookie ?? '';
  return header.split(';').flatMap((pair) => {
    const [name, ...value] = pair.trim().split('=');
    return name === grantCookie ? [value.join('=')] : [];
  });
}

/** A hangar grant sent as `Authorization: Bearer`; other bearer tokens belong to the app. */
export function bearerGrant(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization ?? '';
  const token = /^Bearer\s+(hat1\.\S+)$/i.exec(header)?.[1];
  return token;
}

export function queryGrant(appPath: string): string | undefined {
  const query = appPath.split('?')[1] ?? '';
  for (const item of query.split('&')) {
    const [name, value = ''] = item.split('=');
    if (name !== grantParam) continue;
    try {
      return decodeURIComponent(value);
    } catch {
      // Not valid percent-encoding: checked as it is, and refused as malformed.
      return value;
    }
  }
  return undefined;
}

/** The path and query without the grant parameter, other parameters byte for byte. */
export function withoutGrantParam(appPath: string): string {
  const [path = '/', query] = appPath.split(/\?(.*)/s);
  if (query === undefined) return path;
  const kept = query.split('&').filter((item) => item.split('=')[0] !== grantParam);
  return kept.length > 0 ? `${path}?${kept.join('&')}` : path;
}

/**
 * Checks one grant against one port: signed by the control plane, for this runner, not
 * expired, for this environment, with `ports:connect` for exactly this port, and held by
 * someone the share level admits (private: the owner; org: a member of the environment's org).
 */
export function checkPortGrant(
  token: string,
  context: { identity: RunnerIdentity; target: PortTarget; desired: DesiredEnvironment },
): { ok: true; claims: AccessClaims } | { ok: false; error: HangarError; actor?: Actor } {
  const { identity, target, desired } = context;
  const check = verifyAccessToken(token, identity.controlPlanePublicKey, {
    audience: identity.runnerId,
  });
  if (!check.ok) {
    return { ok: false, error: new HangarError('unauthenticated', tokenProblems[check.reason]) };
  }
  const { claims } = check;
  const refuse = (message: string) => ({
    ok: false as const,
    error: new HangarError('forbidden', message),
    actor: claims.act,
  });
  const { port } = target;
  if (claims.env !== target.environmentId) return refuse('the grant is for another environment');
  if (!claims.ops.includes('ports:connect'))
    return refuse('the grant does not allow ports:connect');
  if (claims.port !== port) {
    return refuse(`the grant opens port ${claims.port ?? 'none'}, not port ${port}`);
  }
  const level = levelOf(desired, port);
  if (level === 'private' && claims.act.id !== desired.ownerId) {
    return refuse(`port ${port} is private: only the environment's owner may open it`);
  }
  if (level === 'org' && claims.org !== desired.orgId) {
    return refuse(`port ${port} is shared with the environment's organization only`);
  }
  return { ok: true, claims };
}

/**
 * Decides one proxied request. A grant may come from the link (`?hangar_grant=`, only when
 * `fromLink`), a hangar `Authorization: Bearer`, or the cookie; the first that the port's
 * current level admits wins, so narrowing a share takes effect on the next request.
 */
export function admitPortRequest(
  request: IncomingMessage,
  context: { identity: RunnerIdentity; target: PortTarget; desired: DesiredEnvironment },
  options: { fromLink: boolean },
): PortAdmission {
  const level = levelOf(context.desired, context.target.port);
  const linked = options.fromLink ? queryGrant(context.target.appPath) : undefined;
  const header = bearerGrant(request);
  const candidates = [linked, header, ...cookieGrants(request)].filter(
    (token): token is string => token !== undefined && token !== '',
  );
  let refusal: Extract<PortAdmission, { ok: false }> | undefined;
  for (const token of candidates) {
    const checked = checkPortGrant(token, context);
    if (checked.ok) {
      const { claims } = checked;
      return {
        ok: true,
        level,
        actor: claims.act,
        grant: claims.jti,
        ...(token === linked ? { exchange: { token, expiresAtS: claims.exp } } : {}),
      };
    }
    refusal ??= checked;
  }
  if (level === 'public') return { ok: true, level, actor: anonymous, grant: 'public' };
  if (refusal) return refusal;
  const { environmentId, port } = context.target;
  const message =
    `port ${port} of ${environmentId} is shared at level ${level}: open it with ` +
    `\`hangar port open ${environmentId} ${port}\`, which gives a link with a grant`;
  return { ok: false, error: new HangarError('unauthenticated', message) };
}

/**
 * The `Set-Cookie` value that keeps the grant for this port only, until the grant expires.
 * Known gap: the cookie lives no longer than the grant (minutes), so a browser tab needs a new
 * `hangar port open` link after that; a runner-signed session cookie that the control plane's
 * revocations reach would let it last a working day.
 */
export function grantCookieHeader(
  target: PortTarget,
  exchange: { token: string; expiresAtS: number },
  options: { secure: boolean },
): string {
  const maxAgeS = Math.max(0, exchange.expiresAtS - Math.floor(Date.now() / 1000));
  const path = target.form === 'path' ? `${target.prefix}/` : '/';
  const secure = options.secure ? '; Secure' : '';
  return `${grantCookie}=${exchange.token}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure}`;
}

/** The request's cookies for the app: the reserved ones taken out. */
export function appCookies(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !reservedCookies.has(pair.split('=')[0]?.trim() ?? ''));
  return kept.length > 0 ? kept.join('; ') : undefined;
}
