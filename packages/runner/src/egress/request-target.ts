import { normalizeHost } from './host-pattern.js';

/** Where a proxied request goes: a normalized host and a port. */
export interface Target {
  host: string;
  port: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function portOf(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The `host:port` of a CONNECT request (`[v6]:port` for IPv6). */
export function parseAuthority(authority: string): Parsed<Target> {
  const match =
    /^\[([^\]]+)\]:([0-9]+)$/.exec(authority) ?? /^([^:[\]]+):([0-9]+)$/.exec(authority);
  const port = match?.[2] !== undefined ? portOf(match[2]) : undefined;
  const host = match?.[1] !== undefined ? normalizeHost(match[1]) : undefined;
  if (!match || port === undefined || host === undefined) {
    return { ok: false, message: 'CONNECT needs host:port, such as example.com:443' };
  }
  return { ok: true, value: { host, port } };
}

/** An absolute `http://` request target; `path` is what goes upstream and nowhere else. */
export function parseAbsoluteUrl(url: string): Parsed<Target & { path: string }> {
  if (!/^http:\/\//i.test(url)) {
    const hint = /^https:\/\//i.test(url)
      ? 'https goes through CONNECT (set HTTPS_PROXY)'
      : 'send an absolute http:// URL, or CONNECT host:port';
    return { ok: false, message: `this is the egress proxy: ${hint}` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, message: 'the request URL does not parse' };
  }
  const rawHost = parsed.hostname.replace(/^\[|\]$/g, '');
  const host = normalizeHost(rawHost);
  const port = parsed.port === '' ? 80 : portOf(parsed.port);
  if (host === undefined || port === undefined) {
    return { ok: false, message: 'the request URL has no valid host and port' };
  }
  return { ok: true, value: { host, port, path: `${parsed.pathname}${parsed.search}` } };
}

/**
 * The password of a `Proxy-Authorization: Basic` header for the user `agent` (what an agent
 * task's proxy URL carries); `null` for any other header, so a wrong one is refused, never
 * ignored; undefined when there is none.
 */
export function proxyCredential(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^basic\s+([A-Za-z0-9+/=]{1,1024})$/i.exec(header.trim());
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'agent') return null;
  return decoded.slice(colon + 1);
}
