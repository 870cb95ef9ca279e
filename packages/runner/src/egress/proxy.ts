import { chmod, chown, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { newId, type Actor } from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';
import { addressText, decide, type Decision, type EgressContext } from './decide.js';
import {
  parseAbsoluteUrl,
  parseAuthority,
  proxyCredential,
  type Target,
} from './request-target.js';
import type { LookupAll } from './resolve.js';
import { checkAddresses, checkDestination } from './rules.js';

export interface ProxyLimits {
  /** Request line and headers together; more is answered 431. */
  maxHeaderBytes: number;
  /** A connection (or tunnel) with no bytes moving either way for this long is closed. */
  idleTimeoutMs: number;
  /** Client connections open at once; one more is answered 503. */
  maxConnections: number;
  lookupTimeoutMs: number;
  connectTimeoutMs: number;
}

export const defaultProxyLimits: ProxyLimits = {
  maxHeaderBytes: 16 * 1024,
  idleTimeoutMs: 5 * 60_000,
  maxConnections: 256,
  lookupTimeoutMs: 5000,
  connectTimeoutMs: 10_000,
};

export interface EgressProxyOptions {
  socketPath: string;
  /** Who may connect (the sandbox's user): the socket is theirs, mode 0600. */
  socketOwner?: { uid: number; gid: number };
  context: EgressContext;
  audit: { append(draft: AuditDraft): Promise<unknown> };
  logger: Logger;
  lookup: LookupAll;
  limits?: Partial<ProxyLimits>;
}

/** Headers that describe one hop, never passed on (plus those `Connection` names). */
const hopHeaders = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** A flat `[name, value, ...]` list without hop-by-hop headers. */
function endToEnd(raw: readonly string[]): string[] {
  const named = new Set<string>();
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() !== 'connection') continue;
    for (const token of (raw[index + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const lower = name.toLowerCase();
    if (hopHeaders.has(lower) || named.has(lower)) continue;
    kept.push(name, raw[index + 1] ?? '');
  }
  return kept;
}

function withoutHost(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let index = 0; index + 1 < raw.length; index += 2) {
    if (raw[index]?.toLowerCase() !== 'host') kept.push(raw[index] ?? '', raw[index + 1] ?? '');
  }
  return kept;
}

const statusText: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A complete response written straight to a socket (CONNECT, errors before parsing). */
function rawResponse(status: number, body: string, headers: Record<string, string> = {}): string {
  const text = `${body}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${text}`;
}

/** Headers of a refusal: which policy denied it, and how to authenticate when that is why. */
function refusalHeaders(decision: Extract<Decision, { allowed: false }>): Record<string, string> {
  if (decision.status === 407) return { 'Proxy-Authenticate': 'Basic realm="hangar-egress"' };
  if (decision.status === 403) return { 'X-Hangar-Egress-Denied': decision.policy };
  return {};
}

/** A connection moving bytes for an allowed request, re-checked when the rules change. */
interface Live extends Target {
  address: Uint8Array;
  close(reason: string): void;
}

/**
 * Known gap: an allowed connection is recorded when it ends, so when the audit queue cannot be
 * written the bytes have already moved (denials are recorded at once); a start record written
 * before connecting, as exec does, would make egress fail closed.
 *
 * The egress proxy of one environment, on a unix socket that only the sandbox reaches: absolute
 * `http://` requests are forwarded, CONNECT opens a tunnel, each to an address it resolved and
 * checked itself. Every decision is audited as `environment.egress` (host and port, never a
 * path); an allowed one when its connection ends, with the bytes each way.
 */
export class EgressProxy {
  private readonly server: Server;
  private readonly limits: ProxyLimits;
  private readonly sockets = new Set<Socket>();
  /** Connections over the limit: answered 503 and closed, never served. */
  private readonly refused = new WeakSet<object>();
  private readonly live = new Set<Live>();

  private constructor(private readonly options: EgressProxyOptions) {
    this.limits = { ...defaultProxyLimits, ...options.limits };
    this.server = createServer({
      maxHeaderSize: this.limits.maxHeaderBytes,
      headersTimeout: Math.min(60_000, this.limits.idleTimeoutMs),
      requestTimeout: 0,
    });
    this.server.timeout = this.limits.idleTimeoutMs;
    this.server.keepAliveTimeout = Math.min(30_000, this.limits.idleTimeoutMs);
    this.server.on('connection', (socket: Socket) => this.admit(socket));
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.refused.has(req.socket)) return;
      this.forward(req, res).catch((error: unknown) => this.failed(error, res));
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node takes its own error listener off a CONNECT socket: without one, a client that
      // goes away mid-answer would throw out of the runner.
      socket.on('error', () => socket.destroy());
      if (this.refused.has(socket)) return;
      this.tunnel(req, socket as Socket, head).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'egress tunnel failed');
        socket.destroy();
      });
    });
    this.server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => {
      socket.end(
        rawResponse(501, 'upgrades through the egress proxy are not supported; use CONNECT'),
      );
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const message = tooLarge
        ? `the request head is larger than ${this.limits.maxHeaderBytes} bytes`
        : 'the request is not valid HTTP/1.1';
      socket.end(rawResponse(tooLarge ? 431 : 400, message));
    });
  }

  static async listen(options: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    await rm(options.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(options.socketPath, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    await chmod(options.socketPath, 0o600);
    if (options.socketOwner && process.getuid?.() === 0) {
      await chown(options.socketPath, options.socketOwner.uid, options.socketOwner.gid);
    }
    return proxy;
  }

  /** Connections open now (client side), for tests and limits. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Closes every connection the current rules no longer allow (the rules just changed). */
  recheck(): void {
    const rules = this.options.context.rules();
    for (const entry of [...this.live]) {
      for (const rule of rules) {
        const named = checkDestination(rule, entry.host, entry.port);
        const verdict = named.allowed
          ? checkAddresses(rule, entry.host, entry.port, [entry.address])
          : named;
        if (!verdict.allowed) {
          entry.close(`the egress rules changed: ${verdict.reason}`);
          break;
        }
      }
    }
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await rm(this.options.socketPath, { force: true });
  }

  private admit(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.sockets.size >= this.limits.maxConnections) {
      // Refused before any request on it is parsed or decided, then closed once the answer left.
      this.refused.add(socket);
      socket.end(
        rawResponse(503, `the egress proxy already has ${this.limits.maxConnections} connections`),
      );
      setTimeout(() => socket.destroy(), refusedLingerMs).unref();
      this.options.logger.warn(
        { environmentId: this.options.context.environmentId },
        'egress connection refused: too many at once',
      );
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** For a request made as a person while agent tasks run: the tasks, so the record says so. */
  private duringTasks(actor: Actor | undefined): { duringAgentTasks?: string } {
    if (actor?.kind === 'agent') return {};
    const tasks = this.options.context.runningTasks?.() ?? [];
    return tasks.length > 0 ? { duringAgentTasks: tasks.join(' ') } : {};
  }

  private decideFor(target: Target, req: IncomingMessage): Promise<Decision> {
    return decide({
      context: this.options.context,
      target,
      credential: proxyCredential(req.headers['proxy-authorization']),
      lookup: this.options.lookup,
      lookupTimeoutMs: this.limits.lookupTimeoutMs,
    });
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const parsed = parseAbsoluteUrl(req.url ?? '');
    if (!parsed.ok) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`${parsed.message}\n`);
      return;
    }
    const { path, ...target } = parsed.value;
    const decision = await this.decideFor(target, req);
    if (!decision.allowed) {
      res.writeHead(decision.status, {
        'content-type': 'text/plain; charset=utf-8',
        connection: 'close',
        ...refusalHeaders(decision),
      });
      res.end(`${decision.reason}\n`);
      req.resume();
      await this.record({ decision, target, method: req.method ?? 'GET', startedAt });
      return;
    }
    // The Host header is the checked target's, so a request cannot name another site on the
    // same address than the one the policy allowed.
    const headers = withoutHost(endToEnd(req.rawHeaders));
    const hostText = target.host.includes(':') ? `[${target.host}]` : target.host;
    headers.push('Host', target.port === 80 ? hostText : `${hostText}:${target.port}`);
    const upstream = httpRequest({
      host: addressText(decision.address),
      port: target.port,
      method: req.method ?? 'GET',
      path,
      headers,
      setHost: false,
      agent: false,
      timeout: this.limits.connectTimeoutMs,
    });
    let upstreamSocket: Socket | undefined;
    let failure: string | undefined;
    upstream.once('socket', (socket: Socket) => {
      upstreamSocket = socket;
      socket.once('connect', () => socket.setTimeout(this.limits.idleTimeoutMs));
    });
    const entry: Live = {
      ...target,
      address: decision.address,
      close: (reason) => {
        failure = reason;
        upstream.destroy();
        res.destroy();
      },
    };
    this.live.add(entry);
    upstream.on('timeout', () => upstream.destroy(new Error('the connection was idle too long')));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= `${target.host}:${target.port} failed (${error.code ?? error.message})`;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end(`the egress proxy could not reach ${failure.replace(/ failed /, ' ')}\n`);
      } else {
        res.destroy();
      }
    });
    upstream.on('response', (answer: IncomingMessage) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders));
      answer.pipe(res);
    });
    req.pipe(upstream);
    res.once('close', () => {
      this.live.delete(entry);
      upstream.destroy();
      const completed = res.writableFinished && failure === undefined;
      void this.record({
        decision,
        target,
        method: req.method ?? 'GET',
        startedAt,
        bytesUp: upstreamSocket?.bytesWritten ?? 0,
        bytesDown: upstreamSocket?.bytesRead ?? 0,
        ...(completed ? {} : { failure: failure ?? 'the client closed the connection' }),
      });
    });
  }

  private async tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const startedAt = performance.now();
    const parsed = parseAuthority(req.url ?? '');
    if (!parsed.ok) {
      endWith(client, rawResponse(400, parsed.message));
      return;
    }
    const target = parsed.value;
    const decision = await this.decideFor(target, req);
    if (!decision.allowed) {
      endWith(client, rawResponse(decision.status, decision.reason, refusalHeaders(decision)));
      await this.record({ decision, target, method: 'CONNECT', startedAt });
      return;
    }
    const upstream = netConnect({ host: addressText(decision.address), port: target.port });
    upstream.setTimeout(this.limits.connectTimeoutMs);
    let failure: string | undefined;
    let established = false;
    const entry: Live = {
      ...target,
      address: decision.address,
      close: (reason) => {
        failure = reason;
        upstream.destroy();
        client.destroy();
      },
    };
    this.live.add(entry);
    upstream.once('connect', () => {
      established = true;
      upstream.setTimeout(this.limits.idleTimeoutMs);
      client.setTimeout(this.limits.idleTimeoutMs);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const idle = () => {
      failure ??= 'the tunnel was idle too long';
      upstream.destroy();
      client.destroy();
    };
    upstream.on('timeout', () => {
      if (!established) failure = `connecting to ${target.host}:${target.port} timed out`;
      idle();
    });
    client.on('timeout', idle);
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      const why = `${target.host}:${target.port} failed (${error.code ?? error.message})`;
      failure ??= why;
      if (!established && client.writable) {
        client.end(
          rawResponse(502, `the egress proxy could not reach ${why.replace(/ failed /, ' ')}`),
        );
      } else {
        client.destroy();
      }
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.end();
      this.live.delete(entry);
      void this.record({
        decision,
        target,
        method: 'CONNECT',
        startedAt,
        bytesUp: upstream.bytesWritten,
        bytesDown: upstream.bytesRead,
        ...(failure !== undefined ? { failure } : {}),
      });
    });
  }

  private failed(error: unknown, res: ServerResponse): void {
    this.options.logger.error({ err: error }, 'egress request failed');
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('the egress proxy failed on this request\n');
    } else {
      res.destroy();
    }
  }

  /** One `environment.egress` record: the decision, never the request's path or payload. */
  private async record(entry: {
    decision: Decision;
    target: Target;
    method: string;
    startedAt: number;
    bytesUp?: number;
    bytesDown?: number;
    failure?: string;
  }): Promise<void> {
    const { decision, target } = entry;
    const failed = decision.allowed ? entry.failure !== undefined : decision.status === 502;
    const refused = !decision.allowed && !failed;
    await this.options.audit
      .append({
        actor: decision.actor,
        action: 'environment.egress',
        target: { kind: 'environment', id: this.options.context.environmentId },
        outcome: refused ? 'denied' : failed ? 'failure' : 'success',
        requestId: newId('req'),
        sourceAddress: 'environment',
        details: {
          host: target.host,
          port: target.port,
          address: addressText(decision.address),
          method: entry.method,
          decision: decision.allowed ? 'allowed' : failed ? 'failed' : 'denied',
          policy: decision.policy,
          mode: decision.mode,
          bytesUp: entry.bytesUp ?? 0,
          bytesDown: entry.bytesDown ?? 0,
          durationMs: Math.round(performance.now() - entry.startedAt),
          reason: decision.allowed ? entry.failure : decision.reason,
          ...this.duringTasks(decision.actor),
        },
      })
      .catch((error: unknown) =>
        this.options.logger.error(
          { err: error, environmentId: this.options.context.environmentId },
          'auditing an egress decision failed',
        ),
      );
  }
}

/** How long a refused connection may linger so that its 503 is read before it is dropped. */
const refusedLingerMs = 1000;

/** Ends a client socket with a last answer, or drops it when it can no longer be written. */
function endWith(socket: Socket, answer: string): void {
  if (socket.writable) socket.end(answer);
  else socket.destroy();
}
