import type { WebSocket } from 'ws';
import { HangarError, statusOf, type ErrorCode } from '@hangar/api';
import type { Logger } from '../logger.js';

/**
 * Pings the client every `intervalMs` and cuts it off when a whole interval passed without a
 * pong or a message, so a client that vanished is noticed. The transport's liveness only: a
 * command's own timeout is separate.
 */
export function keepAlive(socket: WebSocket, intervalMs: number): void {
  let heard = true;
  const alive = (): void => {
    heard = true;
  };
  socket.on('pong', alive);
  socket.on('message', alive);
  const timer = setInterval(() => {
    if (!heard) {
      socket.terminate();
      return;
    }
    heard = false;
    if (socket.readyState === socket.OPEN) socket.ping();
  }, intervalMs);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}

/** A WebSocket message as one buffer, whatever form `ws` handed it in. */
export function messageBytes(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Sends one JSON text message when the socket is still open. */
export function sendJson(socket: WebSocket, message: Record<string, unknown>): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/**
 * Ends a stream with an error message the client can show: `{type:'error', code, message}`,
 * then close code 1008 for a refusal or a bad request, 1011 for the server's own failure.
 */
export function failSocket(
  socket: WebSocket,
  error: unknown,
  context: { requestId: string; logger: Logger; what: string },
): void {
  const hangar = error instanceof HangarError ? error : undefined;
  if (!hangar) context.logger.error({ err: error, requestId: context.requestId }, context.what);
  const code: ErrorCode = hangar?.code ?? 'internal';
  const message = hangar?.message ?? `${context.what}; the request id names it in the log`;
  sendJson(socket, { type: 'error', code, message, requestId: context.requestId });
  if (socket.readyState === socket.OPEN) socket.close(statusOf(code) < 500 ? 1008 : 1011);
}
