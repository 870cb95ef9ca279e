import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GitHttpServerOptions {
  /** Directory whose repositories are served: `<url>/<name>` is `<root>/<name>`. */
  root: string;
  /** When given, every request needs this Basic credential; others get 401. */
  auth?: { username: string; password: string };
  /** Wait this long before answering each request (to keep a client busy in a test). */
  delayMs?: number;
}

/** One request the server saw, for assertions. */
export interface GitHttpRequest {
  method: string;
  path: string;
  /** Whether the request carried an Authorization header, and whether it was the right one. */
  authorization: 'none' | 'accepted' | 'rejected';
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; append `/<repository>`. */
  url: string;
  requests: GitHttpRequest[];
  close(): Promise<void>;
}

/**
 * Serves the repositories under `root` over smart HTTP with the real `git http-backend` CGI,
 * on 127.0.0.1 and a free port, with optional Basic authentication.
 */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const requests: GitHttpRequest[] = [];
  const sockets = new Set<Socket>();
  const backends = new Set<ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  const basic = options.auth && `${options.auth.username}:${options.auth.password}`;
  const expected = basic
    ? Buffer.from(`Basic ${Buffer.from(basic).toString('base64')}`)
    : undefined;

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const header = request.headers.authorization;
    const authorization = checkAuthorization(header, expected);
    requests.push({ method: request.method ?? 'GET', path: url.pathname, authorization });
    if (expected && authorization !== 'accepted') {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="hangar-test"' });
      response.end('authentication required\n');
      return;
    }
    const backend = runBackend(options, request, response, url);
    backends.add(backend);
    backend.once('close', () => backends.delete(backend));
  };

  const server = createServer((request, response) => {
    if (!options.delayMs) return handle(request, response);
    const timer = setTimeout(() => {
      timers.delete(timer);
      handle(request, response);
    }, options.delayMs);
    timers.add(timer);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const backend of backends) backend.kill('SIGKILL');
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkAuthorization(
  header: string | undefined,
  expected: Buffer | undefined,
): GitHttpRequest['authorization'] {
  if (header === undefined) return 'none';
  const given = Buffer.from(header);
  if (expected && given.length === expected.length && timingSafeEqual(given, expected)) {
    return 'accepted';
  }
  return 'rejected';
}

function runBackend(
  options: GitHttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: options.root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
    CONTENT_TYPE: request.headers['content-type'] ?? '',
  };
  if (options.auth) env['REMOTE_USER'] = options.auth.username;
  const contentLength = request.headers['content-length'];
  if (contentLength !== undefined) env['CONTENT_LENGTH'] = contentLength;
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined) env['HTTP_CONTENT_ENCODING'] = encoding;
  const protocol = request.headers['git-protocol'];
  if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;

  const backend = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  request.pipe(backend.stdin);
  backend.stdin.on('error', () => undefined);
  backend.once('error', () => {
    if (!response.headersSent) response.writeHead(500);
    response.end();
  });
  relayCgiResponse(backend, response);
  return backend;
}

/** Reads the CGI header block from the backend's stdout, then streams the body through. */
function relayCgiResponse(backend: ChildProcess, response: ServerResponse): void {
  let head = Buffer.alloc(0);
  let headersDone = false;
  backend.stdout?.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const text = head.toString('latin1');
    const crlf = text.indexOf('\r\n\r\n');
    const lf = text.indexOf('\n\n');
    const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf !== -1 ? lf + 2 : -1;
    if (end === -1) return;
    headersDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    response.write(head.subarray(end));
  });
  backend.stdout?.once('end', () => {
    if (!headersDone && !response.headersSent) response.writeHead(502);
    response.end();
  });
}
