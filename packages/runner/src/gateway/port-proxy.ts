import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  HangarError,
  newId,
  statusOf,
  toErrorBody,
  type Actor,
  type DesiredEnvironment,
} from '@hangar/api';
import type { EnvdClient } from '../providers/provider.js';
import type { SessionHandle } from '../sessions/registry.js';
import type { GatewayDeps } from './deps.js';
import {
  admitPortRequest,
  anonymous,
  grantCookieHeader,
  withoutGrantParam,
  type PortAdmission,
} from './port-access.js';
import {
  appRequestHeaders,
  appResponseHeaders,
  bodyFraming,
  refuseServiceWorker,
  responseHead,
} from './port-headers.js';
import { portTargetOf, type PortTarget, type PortUrls } from './port-target.js';

interface Exchange {
  requestId: string;
  sourceAddress: string;
  target: PortTarget;
}

type Refusal = Extract<PortAdmission, { ok: false }>;

/**
 * The gateway's proxy to ports inside environments, at `/ports/<env>/<port>/…` and, with a
 * ports domain, `<port>-<env>.<domain>`. Every request is checked against the port's share
 * level as the control plane last sent it; the hangar grant and cookie never reach the app.
 * Each client connection is one `port` session, with the bytes it moved.
 *
 * Known gap: in the path form every port of every environment shares the gateway's origin, so
 * a page served from one port can read another port's answers with the visitor's cookie for
 * it. The host form gives each port its own origin; a runner without wildcard DNS has only the
 * path form. Serving path-form pages with a sandboxing CSP would close it, at the cost of
 * their storage.
 */
export class PortProxy {
  private readonly sessions = new WeakMap<Duplex, Map<string, Promise<SessionHandle>>>();
  private readonly clients = new Set<Duplex>();

  constructor(
    private readonly deps: GatewayDeps,
    private readonly urls: PortUrls,
    private readonly portsDomain: string | undefined,
  ) {}

  /** The port a request is for, `undefined` for the gateway API; throws for a malformed one. */
  targetOf(request: IncomingMessage): PortTarget | undefined {
    return portTargetOf(request, this.portsDomain);
  }

  /** Answers a request whose target could not be read. */
  refuse(response: ServerResponse, error: unknown): void {
    this.sendError(response, error, newId('req'));
  }

  /** Answers an upgrade whose target could not be read, on its raw socket. */
  refuseUpgrade(socket: Duplex, error: unknown): void {
    writeRawError(socket, error, newId('req'));
  }

  async serve(request: IncomingMessage, response: ServerResponse, target: PortTarget) {
    const exchange = this.exchangeOf(request, target);
    try {
      if (target.bare) {
        const query = target.appPath.slice(1);
        this.redirect(response, 308, `${target.prefix}/${query}`);
        return;
      }
      bodyFraming(request);
      refuseServiceWorker(request, target);
      const desired = this.desiredOf(target);
      const admission = admitPortRequest(request, this.contextOf(target, desired), {
        fromLink: true,
      });
      if (!admission.ok) throw await this.denied(exchange, admission);
      if (admission.exchange) {
        response.setHeader(
          'set-cookie',
          grantCookieHeader(target, admission.exchange, { secure: this.urls.secure }),
        );
        this.redirect(response, 303, `${target.prefix}${withoutGrantParam(target.appPath)}`);
        return;
      }
      const session = await this.sessionFor(request.socket, exchange, admission);
      this.deps.activity.touch(target.environmentId);
      await this.forward(request, response, { ...exchange, session });
    } catch (error) {
      this.sendError(response, error, exchange.requestId);
    }
  }

  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, target: PortTarget) {
    socket.on('error', () => socket.destroy());
    const exchange = this.exchangeOf(request, target);
    try {
      if (bodyFraming(request) !== 'none' && request.headers['content-length'] !== '0') {
        throw new HangarError(
          'invalid_request',
          'an upgrade request carries no body: send it without Content-Length or Transfer-Encoding',
        );
      }
      const desired = this.desiredOf(target);
      const admission = admitPortRequest(request, this.contextOf(target, desired), {
        fromLink: false,
      });
      if (!admission.ok) throw await this.denied(exchange, admission);
      const session = await this.sessionFor(socket, exchange, admission);
      this.deps.activity.touch(target.environmentId);
      await this.tunnel(request, socket, head, { ...exchange, session });
    } catch (error) {
      writeRawError(socket, error, exchange.requestId);
    }
  }

  /** Ends every proxied connection: the gateway is shutting down. */
  close(): void {
    for (const client of this.clients) client.destroy();
  }

  private exchangeOf(request: IncomingMessage, target: PortTarget): Exchange {
    return { requestId: newId('req'), sourceAddress: request.socket.remoteAddress ?? '', target };
  }

  private desiredOf(target: PortTarget): DesiredEnvironment {
    const desired = this.deps.desired(target.environmentId);
    if (!desired) {
      throw new HangarError(
        'not_found',
        `environment ${target.environmentId} is not on this runner; check the link`,
      );
    }
    return desired;
  }

  private contextOf(target: PortTarget, desired: DesiredEnvironment) {
    return { identity: this.deps.identity(), target, desired };
  }

  private async denied(exchange: Exchange, refusal: Refusal): Promise<HangarError> {
    const { target } = exchange;
    await this.deps.audit
      .append({
        actor: refusal.actor ?? anonymous,
        action: 'access.denied',
        target: { kind: 'environment', id: target.environmentId },
        outcome: 'denied',
        requestId: exchange.requestId,
        sourceAddress: exchange.sourceAddress,
        details: {
          reason: refusal.error.message.slice(0, 200),
          operation: 'ports:connect',
          port: target.port,
        },
      })
      .catch(() => undefined);
    return refusal.error;
  }

  /** One session per client connection and port: the first admitted request opens it. */
  private sessionFor(
    client: Duplex,
    exchange: Exchange,
    admission: Extract<PortAdmission, { ok: true }>,
  ): Promise<SessionHandle> {
    let perClient = this.sessions.get(client);
    if (!perClient) {
      const opened = new Map<string, Promise<SessionHandle>>();
      perClient = opened;
      this.sessions.set(client, opened);
      this.clients.add(client);
      client.once('close', () => {
        this.clients.delete(client);
        for (const session of opened.values()) {
          session.then(
            (handle) => handle.end('success', 'the client closed the connection'),
            ignore,
          );
        }
      });
    }
    const { target } = exchange;
    const key = `${target.environmentId}/${target.port}/${admission.actor.id}`;
    const existing = perClient.get(key);
    if (existing) return existing;
    const session = this.openSession(client, exchange, admission);
    perClient.set(key, session);
    session.catch(() => perClient.delete(key));
    return session;
  }

  private openSession(
    client: Duplex,
    exchange: Exchange,
    admission: { actor: Actor; grant: string; level: string },
  ): Promise<SessionHandle> {
    const { target } = exchange;
    let handle: SessionHandle | undefined;
    const opening = this.deps.sessions.open({
      kind: 'port',
      environmentId: target.environmentId,
      actor: admission.actor,
      grant: admission.grant,
      requestId: exchange.requestId,
      sourceAddress: exchange.sourceAddress,
      details: { port: target.port, level: admission.level, form: target.form },
      close: (reason) => {
        void handle?.end('denied', reason);
        client.destroy();
      },
    });
    return opening.then(
      (opened) => (handle = opened),
      (error: unknown) => {
        throw new HangarError(
          'audit_unavailable',
          'the connection was refused: its session could not be audited on the runner; retry',
          { cause: error },
        );
      },
    );
  }

  private async forward(
    request: IncomingMessage,
    response: ServerResponse,
    call: Exchange & { session: SessionHandle },
  ): Promise<void> {
    const { target, session } = call;
    const { envd, upstream } = await this.dial(target);
    const proxied = httpRequest({
      method: request.method ?? 'GET',
      path: withoutGrantParam(target.appPath),
      headers: appRequestHeaders(request, target, { secure: this.urls.secure }),
      createConnection: () => upstream,
    });
    const done = new Promise<void>((resolve) => response.once('close', resolve));
    response.once('close', () => {
      proxied.destroy();
      upstream.destroy();
      envd.close();
    });
    request.on('data', (chunk: Buffer) => {
      session.addBytesIn(chunk.length);
      this.deps.activity.touch(target.environmentId);
    });
    proxied.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, appResponseHeaders(answer, target));
      answer.on('data', (chunk: Buffer) => session.addBytesOut(chunk.length));
      answer.pipe(response);
    });
    proxied.on('error', (error) => {
      const failure = new HangarError(
        'unreachable',
        `port ${target.port} in ${target.environmentId} broke off the request (${error.message})`,
      );
      this.sendError(response, failure, call.requestId);
    });
    if (bodyFraming(request) === 'none') proxied.end();
    else request.pipe(proxied);
    await done;
  }

  /**
   * Asks the app to upgrade, and pipes raw bytes only once it answers `101 Switching
   * Protocols`; any other answer is relayed and the connection closed, so that nothing the
   * client sends after a refused upgrade reaches the app unchecked.
   */
  private async tunnel(
    request: IncomingMessage,
    client: Duplex,
    head: Buffer,
    call: Exchange & { session: SessionHandle },
  ): Promise<void> {
    const { target, session } = call;
    const { envd, upstream } = await this.dial(target);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      envd.close();
    };
    client.once('close', end);
    const proxied = httpRequest({
      method: request.method ?? 'GET',
      path: withoutGrantParam(target.appPath),
      headers: appRequestHeaders(request, target, { upgrade: true, secure: this.urls.secure }),
      createConnection: () => upstream,
    });
    let answered = false;
    proxied.on('upgrade', (answer: IncomingMessage, socket: Duplex, early: Buffer) => {
      answered = true;
      if (answer.statusCode !== 101) {
        end();
        return;
      }
      socket.once('close', end);
      socket.on('error', end);
      const headers = appResponseHeaders(answer, target);
      headers.connection = 'Upgrade';
      if (answer.headers.upgrade) headers.upgrade = answer.headers.upgrade;
      client.write(responseHead(answer, headers));
      if (early.length > 0) client.write(early);
      if (head.length > 0) socket.write(head);
      client.on('data', (chunk: Buffer) => {
        session.addBytesIn(chunk.length);
        this.deps.activity.touch(target.environmentId);
      });
      socket.on('data', (chunk: Buffer) => session.addBytesOut(chunk.length));
      client.pipe(socket);
      socket.pipe(client);
    });
    proxied.on('response', (answer) => {
      answered = true;
      const headers = appResponseHeaders(answer, target);
      headers.connection = 'close';
      client.write(responseHead(answer, headers));
      answer.on('data', (chunk: Buffer) => session.addBytesOut(chunk.length));
      answer.pipe(client);
    });
    proxied.on('error', (error) => {
      if (answered) {
        end();
        return;
      }
      const failure = new HangarError(
        'unreachable',
        `port ${target.port} in ${target.environmentId} broke off the upgrade (${error.message})`,
      );
      writeRawError(client, failure, call.requestId);
    });
    proxied.end();
    await new Promise<void>((resolve) => client.once('close', resolve));
  }

  /** A TCP stream to the port from inside the environment: IPv4 loopback, then IPv6. */
  private async dial(target: PortTarget): Promise<{ envd: EnvdClient; upstream: Duplex }> {
    const envd = await this.deps.envd(target.environmentId);
    try {
      const upstream = await envd
        .connectTcp(target.port, '127.0.0.1')
        .catch(() => envd.connectTcp(target.port, '::1'));
      return { envd, upstream };
    } catch (error) {
      envd.close();
      if (error instanceof HangarError && error.code === 'environment_not_running') throw error;
      throw new HangarError(
        'unreachable',
        `nothing accepts connections on port ${target.port} in ${target.environmentId}; ` +
          'start the server there (on 127.0.0.1 or 0.0.0.0) and reload',
        { cause: error },
      );
    }
  }

  /** A redirect to a path of this origin: leading slashes are one, so `//host` stays here. */
  private redirect(response: ServerResponse, status: number, location: string): void {
    response.writeHead(status, {
      location: location.replace(/^[/\\]+/, '/'),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-length': 0,
    });
    response.end();
  }

  private sendError(response: ServerResponse, error: unknown, requestId: string): void {
    const hangar = toProxyError(error);
    if (hangar.code === 'internal') {
      this.deps.logger.error({ err: error, requestId }, 'proxying to a port failed');
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = JSON.stringify(toErrorBody(hangar, requestId));
    // Closed after the answer: what the client sends next is not read on a refused request.
    response.writeHead(hangar.status, {
      connection: 'close',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    response.end(body);
  }
}

function ignore(): void {}

function toProxyError(error: unknown): HangarError {
  if (error instanceof HangarError) return error;
  return new HangarError('internal', 'the port could not be reached; the request id names it');
}

/** Refuses an upgrade on the raw socket: a status line, the error body, and close. */
function writeRawError(socket: Duplex, error: unknown, requestId: string): void {
  const hangar = toProxyError(error);
  const body = JSON.stringify(toErrorBody(hangar, requestId));
  const status = statusOf(hangar.code);
  socket.end(
    `HTTP/1.1 ${status} ${hangar.code}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
