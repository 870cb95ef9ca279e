import type { IncomingMessage } from 'node:http';
import { HangarError, reservedPortProblem } from '@hangar/api';

/** Which environment port a proxied request is for, and what the app inside sees of it. */
export interface PortTarget {
  environmentId: string;
  port: number;
  form: 'path' | 'host';
  /** `/ports/<env>/<port>` for the path form, '' for the host form: cut off before the app. */
  prefix: string;
  /** The path and query the app gets. */
  appPath: string;
  /** `/ports/<env>/<port>` without its slash: redirected, so relative links resolve. */
  bare: boolean;
}

/** `/ports/<environment id>/<port>` and what follows. */
const pathForm = /^\/ports\/([^/?#]*)\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;
const envId = /^[a-z]{3}_[0-9a-z]{8,40}$/;
/** `<port>-<environment id>`; `env-…` is taken for `env_…`, for names where `_` is refused. */
const hostLabel = /^(\d{1,5})-([a-z]{3})[_-]([0-9a-z]{8,40})$/;

/**
 * The port a target names; `08080` is refused rather than read as 8080, so that a link has one
 * spelling and the grant cookie's path is the one the browser sends it for.
 */
function portOf(text: string): number | undefined {
  if (/^0\d/.test(text)) {
    throw new HangarError(
      'invalid_request',
      `port ${text} has a leading zero: write the port without leading zeros, ` +
        `e.g. ${text.replace(/^0+/, '') || '3000'}`,
    );
  }
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  const reserved = reservedPortProblem(port);
  if (reserved) throw new HangarError('forbidden', reserved);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The host a request names, lower-case and without its port. */
export function hostOf(request: IncomingMessage): string {
  const host = (request.headers.host ?? '').toLowerCase();
  return host.startsWith('[') ? host : host.replace(/:\d+$/, '');
}

/**
 * The shared-port target of a request, `undefined` when it is for the gateway's own API. The
 * host form needs the runner's `portsDomain`; every other host is the gateway's. A malformed
 * path-form target is `invalid_request`, so a typo is not mistaken for an API route.
 */
export function portTargetOf(
  request: IncomingMessage,
  portsDomain: string | undefined,
): PortTarget | undefined {
  const url = request.url ?? '/';
  if (portsDomain) {
    const host = hostOf(request);
    if (host.endsWith(`.${portsDomain}`)) {
      const label = host.slice(0, -portsDomain.length - 1);
      const match = hostLabel.exec(label);
      const port = portOf(match?.[1] ?? '');
      if (!match || port === undefined) {
        throw new HangarError(
          'invalid_request',
          `${host} is not <port>-<environment id>.${portsDomain}, e.g. 3000-env_3k9xq2m1p0a8z7yw`,
        );
      }
      const environmentId = `${match[2] ?? ''}_${match[3] ?? ''}`;
      return { environmentId, port, form: 'host', prefix: '', appPath: url, bare: false };
    }
  }
  if (url !== '/ports' && !url.startsWith('/ports/')) return undefined;
  const match = pathForm.exec(url);
  const environmentId = match?.[1] ?? '';
  const port = portOf(match?.[2] ?? '');
  if (!match || !envId.test(environmentId) || port === undefined) {
    throw new HangarError(
      'invalid_request',
      'a shared port is served at /ports/<environment id>/<port>/, ' +
        'e.g. /ports/env_3k9xq2m1p0a8z7yw/3000/',
    );
  }
  const prefix = `/ports/${environmentId}/${port}`;
  return {
    environmentId,
    port,
    form: 'path',
    prefix,
    appPath: `${match[3] ?? '/'}${match[4] ?? ''}`,
    bare: match[3] === undefined,
  };
}

/** Where the gateway serves each port: the path form always, the host form when configured. */
export class PortUrls {
  private base: URL | undefined;

  constructor(private readonly portsDomain: string | undefined) {}

  /** The gateway's public URL, known once it listens. */
  setBase(url: string): void {
    this.base = new URL(url);
  }

  get secure(): boolean {
    return this.base?.protocol === 'https:';
  }

  pathUrl(environmentId: string, port: number): string {
    const base = (this.base?.href ?? '').replace(/\/+$/, '');
    return `${base}/ports/${environmentId}/${port}/`;
  }

  hostUrl(environmentId: string, port: number): string | undefined {
    if (!this.portsDomain || !this.base) return undefined;
    const gatewayPort = this.base.port ? `:${this.base.port}` : '';
    return `${this.base.protocol}//${port}-${environmentId}.${this.portsDomain}${gatewayPort}/`;
  }
}
