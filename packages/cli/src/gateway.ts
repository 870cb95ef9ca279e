import type { AccessOperation } from '@hangar/api';
import { HttpClient } from './http-client.js';

/** A short-lived grant for one environment on its runner's gateway. */
export interface GatewayAccess {
  token: string;
  expiresAt: string;
  gatewayUrl: string;
  runnerId: string;
  environmentId: string;
}

/** Asks the control plane for a gateway token; the data itself never passes through it. */
export function requestAccess(
  api: HttpClient,
  environmentId: string,
  operations: AccessOperation[],
): Promise<GatewayAccess> {
  return api.post<GatewayAccess>(`/v1/environments/${encodeURIComponent(environmentId)}/access`, {
    operations,
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
