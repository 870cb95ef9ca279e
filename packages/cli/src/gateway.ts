import WebSocket from 'ws';
import type { AccessOperation } from '@hangar/api';
import { HangarError, isErrorCode } from '@hangar/api/errors.js';
import { HttpClient, errorFromResponse } from './http-client.js';

/** A short-lived grant for one environment on its runner's gateway. */
export interface GatewayAccess {
  token: string;
  expiresAt: string;
  gatewayUrl: string;
  runnerId: string;
  environmentId: string;
}

/**
 * Asks the control plane for a gateway token; the data itself never passes through it. With a
 * break-glass reason an owner or admin asks for another member's environment (audited as
 * environment.break-glass; only when the organization policy breakGlass allows it).
 */
export function requestAccess(
  api: HttpClient,
  environmentId: string,
  operations: AccessOperation[],
  options: { breakGlassReason?: string | undefined } = {},
): Promise<GatewayAccess> {
  const reason = options.breakGlassReason;
  return api.post<GatewayAccess>(`/v1/environments/${encodeURIComponent(environmentId)}/access`, {
    operations,
    ...(reason === undefined ? {} : { breakGlassReason: reason }),
  });
}

export function gatewayClient(access: GatewayAccess): HttpClient {
  return new HttpClient({
    baseUrl: access.gatewayUrl,
    token: access.token,
    service: `runner gateway of ${access.runnerId}`,
    unreachableHint: `is the runner ${access.runnerId} running, and its gateway reachable?`,
  });
}

/** The WebSocket address of a path on the gateway: `wss:` for an `https:` gateway. */
export function socketUrl(access: GatewayAccess, path: string): string {
  const base = access.gatewayUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
  return `${base}${path}`;
}

/** Opens a WebSocket to a path on the gateway, the grant as its bearer token. */
export function openGatewaySocket(access: GatewayAccess, path: string): WebSocket {
  return new WebSocket(socketUrl(access, path), {
    headers: { authorization: `Bearer ${access.token}` },
  });
}

/**
 * Calls `onError` with the gateway's error, read from its body, when it answers the upgrade
 * with a plain HTTP response (a refused grant, a stopped environment).
 */
export function onRefusedUpgrade(
  socket: WebSocket,
  access: GatewayAccess,
  onError: (error: HangarError, status: number) => void,
): void {
  socket.on('unexpected-response', (clientRequest, response) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      clientRequest.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const status = response.statusCode ?? 0;
      onError(
        errorFromResponse({ status, text, service: `runner gateway of ${access.runnerId}` }),
        status,
      );
    });
  });
}

/** A frame's bytes, in whichever of its forms `ws` hands it over. */
export function frameBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** How a command ended, from the gateway's `exit` frame; members of the wrong type are null. */
export function exitFromFrame(frame: {
  exitCode?: unknown;
  signal?: unknown;
  timedOut?: unknown;
}): {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
} {
  return {
    exitCode: typeof frame.exitCode === 'number' ? frame.exitCode : null,
    signal: typeof frame.signal === 'string' ? frame.signal : null,
    timedOut: frame.timedOut === true,
  };
}

/** The error in the gateway's `error` frame: `internal` and `fallback` where it names none. */
export function errorFromFrame(
  frame: { code?: unknown; message?: unknown },
  fallback: string,
  details?: Record<string, unknown>,
): HangarError {
  const code = isErrorCode(frame.code) ? frame.code : 'internal';
  const message = typeof frame.message === 'string' ? frame.message : fallback;
  return new HangarError(code, message, details ? { details } : {});
}

/** The end of the environment's lifecycle log, straight from the runner. */
export async function fetchLifecycleLog(
  api: HttpClient,
  environmentId: string,
  options: { tailBytes?: number } = {},
): Promise<Buffer> {
  const access = await requestAccess(api, environmentId, ['logs']);
  return gatewayClient(access).bytes(
    'GET',
    `/v1/environments/${encodeURIComponent(environmentId)}/logs`,
    { query: { tailBytes: options.tailBytes } },
  );
}

/** The last `count` lines of a log, without a trailing empty line. */
export function lastLines(log: Buffer | string, count: number): string[] {
  const lines = log.toString().replace(/\n+$/, '').split('\n');
  return lines[0] === '' && lines.length === 1 ? [] : lines.slice(-count);
}
