import { lookup, type LookupAddress } from 'node:dns';
import { isIP, isIPv4, connect, type LookupFunction, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Connection } from './connection.js';
import { EnvdError, isErrno } from './errors.js';
import { FrameType, type Frame } from './protocol.js';
import { parseTcpConnectRequest } from './requests.js';

/** How long dialling may take before the client is told the port is unreachable. */
export const TCP_CONNECT_TIMEOUT_MS = 10_000;

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIPv4(bare)) return bare.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1] !== undefined) return mapped[1].startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

/**
 * Where a client may connect: a loopback address, or `localhost` or this environment's own host
 * name, which must resolve to loopback. The environment's network namespace has no other
 * interface, but the rule holds even where envd runs with more.
 */
export function dialTarget(host: string | undefined): { host: string; named: boolean } {
  if (host === undefined) return { host: '127.0.0.1', named: false };
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) {
    if (!isLoopbackAddress(bare)) {
      throw new EnvdError(
        'invalid_request',
        `tcpConnect: ${host} is not a loopback address; only 127.0.0.0/8 and ::1 inside the ` +
          'environment are reachable',
      );
    }
    return { host: bare, named: false };
  }
  if (bare.toLowerCase() !== 'localhost' && bare.toLowerCase() !== hostname().toLowerCase()) {
    throw new EnvdError(
      'invalid_request',
      `tcpConnect: host ${host} is not this environment; use 127.0.0.1, ::1 or localhost`,
    );
  }
  return { host: bare, named: true };
}

/** Resolves like the system does, but refuses a name that leads anywhere but loopback. */
const loopbackLookup: LookupFunction = (name, options, callback) => {
  lookup(name, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const allowed = addresses.filter((entry) => isLoopbackAddress(entry.address));
    if (allowed.length === 0) {
      const refused = Object.assign(new Error(`${name} does not resolve to loopback`), {
        code: 'ENOTLOOPBACK',
      });
      callback(refused, '', 0);
      return;
    }
    if (options.all) callback(null, allowed);
    else callback(null, allowed[0]?.address ?? '', allowed[0]?.family ?? 4);
  });
};

function dialError(error: unknown, where: string): EnvdError {
  if (isErrno(error, 'ECONNREFUSED')) {
    return new EnvdError(
      'port_closed',
      `nothing listens on ${where} inside the environment; start the server or pick another port`,
    );
  }
  if (isErrno(error, 'ENOTLOOPBACK')) {
    return new EnvdError('invalid_request', `tcpConnect: ${where} does not resolve to loopback`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new EnvdError(
    'unreachable',
    `cannot connect to ${where} inside the environment: ${detail}`,
  );
}

/**
 * Dials the port from inside the environment, answers `result` once connected, then relays bytes
 * both ways with backpressure on each side. Each direction is closed on its own (`dataEnd` from
 * the client half-closes the TCP connection; the server's end is sent as `dataEnd`), and envd
 * ends the exchange once both are.
 */
export function handleTcpConnect(conn: Connection, body: unknown): void {
  const request = parseTcpConnectRequest(body);
  const target = dialTarget(request.host);
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${request.port}`;
  const socket = connect({
    host: target.host,
    port: request.port,
    allowHalfOpen: true,
    ...(target.named ? { lookup: loopbackLookup } : {}),
  });
  let connected = false;
  socket.setTimeout(TCP_CONNECT_TIMEOUT_MS, () => {
    socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
  });
  socket.on('error', (error) => {
    if (!connected) conn.fail(dialError(error, where));
    else
      conn.fail(
        new EnvdError('unreachable', `the connection to ${where} failed: ${error.message}`),
      );
  });
  conn.onClose(() => socket.destroy());
  socket.once('connect', () => {
    connected = true;
    socket.setTimeout(0);
    conn.sendJson(FrameType.result, {});
    relay(conn, socket);
  });
}

function relay(conn: Connection, socket: Socket): void {
  let waitingForSocket = false;
  let waitingForClient = false;
  conn.onFrame((frame: Frame) => {
    if (frame.type === FrameType.data) {
      if (!socket.write(frame.payload) && !waitingForSocket) {
        waitingForSocket = true;
        conn.pauseReading();
        socket.once('drain', () => {
          waitingForSocket = false;
          conn.resumeReading();
        });
      }
    } else if (frame.type === FrameType.dataEnd) {
      socket.end();
    } else {
      throw new EnvdError(
        'invalid_request',
        `tcpConnect: unexpected frame 0x${frame.type.toString(16)}; send data or dataEnd`,
      );
    }
  });
  socket.on('data', (chunk: Buffer) => {
    if (!conn.sendChunked(FrameType.data, chunk) && !waitingForClient) {
      waitingForClient = true;
      socket.pause();
      conn.onDrain(() => {
        waitingForClient = false;
        socket.resume();
      });
    }
  });
  socket.on('end', () => conn.send(FrameType.dataEnd));
  socket.on('close', (hadError) => {
    if (!hadError) conn.end();
  });
}
