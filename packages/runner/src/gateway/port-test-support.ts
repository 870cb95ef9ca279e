import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { DesiredEnvironment } from '@hangar/api';
import type { EnvdClient } from '../providers/provider.js';
import { eventually, testOwnerId } from './stream-test-support.js';

/**
 * A web server for inside a sandbox (`/run/hangar/node`): it answers every request with what
 * it received as JSON, `/redirect` with a redirect and two cookies, `/cookies` with cookies whose
 * attributes a proxy must rewrite, and a WebSocket upgrade of `/socket` with an echo of each small
 * text message, prefixed `echo:`; an upgrade of any other path is answered 404 on a connection
 * that stays open for plain HTTP. Writes `ready-file` once it listens.
 */
export function echoServerScript(port: number, readyFile: string): string[] {
  const script = `
const http = require('http');
const crypto = require('crypto');
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (req.url === '/redirect') {
      res.writeHead(302, {
        location: '/landing',
        'set-cookie': [
          'app=1; Path=/',
          'hangar_port_grant=forged; Path=/',
          'hangar_session=planted; Path=/',
          '__Host-hangar_session=planted; Path=/; Secure',
        ],
      });
      return res.end();
    }
    if (req.url === '/cookies') {
      res.writeHead(200, {
        'service-worker-allowed': '/',
        'set-cookie': [
          'twice=1; Path=/x; path=/',
          'tossed=2; Domain=ports.test; Path=/; domain=.other.test; HttpOnly',
          'plain=3',
        ],
      });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
});
server.on('upgrade', (req, socket, head) => {
  if (req.url !== '/socket') {
    socket.write('HTTP/1.1 404 Not Found\\r\\ncontent-length: 9\\r\\n\\r\\nno socket');
    socket.unshift(head);
    return server.emit('connection', socket);
  }
  const key = req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
  const accept = crypto.createHash('sha1').update(key).digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\n' +
    'Connection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  socket.on('data', (frame) => {
    const length = frame[1] & 0x7f;
    const mask = frame.subarray(2, 6);
    const data = Buffer.from(frame.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]));
    const reply = Buffer.concat([Buffer.from('echo:'), data]);
    socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
  });
});
server.listen(${port}, '127.0.0.1', () => require('fs').writeFileSync(${JSON.stringify(readyFile)}, 'yes'));
`;
  return ['/run/hangar/node', '-e', script];
}

/** Starts the echo server through envd and waits until it listens. */
export async function startEchoServer(envd: EnvdClient, port: number): Promise<void> {
  const readyFile = `/tmp/echo-${port}-ready`;
  await envd.spawnProcess({ command: echoServerScript(port, readyFile), timeoutMs: 600_000 });
  const listening = await eventually(async () =>
    envd.readFile(readyFile).then(
      () => true,
      () => false,
    ),
  );
  if (!listening) throw new Error(`the echo server on port ${port} never listened`);
}

/** What the control plane would send for an environment of the test owner. */
export function desiredFor(
  environmentId: string,
  orgId: string,
  ports: DesiredEnvironment['ports'] = [],
): DesiredEnvironment {
  return {
    id: environmentId,
    orgId,
    ownerId: testOwnerId,
    name: 'ports',
    generation: 1,
    spec: { class: 'small', desiredPhase: 'running' },
    ports,
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * One HTTP request on a connection of its own, with nothing added or followed: custom Host,
 * cookies, no redirects.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
    });
    outgoing.on('error', reject);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    outgoing.end(options.body);
  });
}

/**
 * Writes `text` as it is on a TCP connection of its own and collects what comes back, until the
 * server closes the connection or (with `stopAt`) the answer contains that text.
 */
export function rawExchange(url: string, text: string, stopAt?: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (stopAt !== undefined && received.includes(stopAt)) socket.destroy();
    });
    socket.on('close', () => resolve(received));
    socket.write(text);
  });
}
