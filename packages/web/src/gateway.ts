import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api-types.js';
import { resultOf, type Client, type Result } from './client.js';
import type { components, paths as gatewayPaths } from './gateway-types.js';

type GrantCall = paths['/v1/environments/{id}/access']['post'];

/** A short-lived grant for one environment's runner gateway, and where that gateway is. */
export type Grant = GrantCall['responses'][201]['content']['application/json'];

export type Operation =
  GrantCall['requestBody']['content']['application/json']['operations'][number];

export type GatewayClient = ReturnType<typeof createClient<gatewayPaths>>;

export type TranscriptLine = components['schemas']['TranscriptLine'];
export type TerminalStart = components['schemas']['TerminalStart'];
export type TerminalResize = components['schemas']['TerminalResize'];
export type PortEntry =
  gatewayPaths['/v1/environments/{id}/ports']['get']['responses'][200]['content']['application/json']['ports'][number];

/**
 * Asks the control plane for a grant on `environmentId` for `operations`. The browser then talks
 * to the runner's gateway itself: terminal streams, logs and transcripts never pass through the
 * control plane.
 */
export function grantFor(
  client: Client,
  environmentId: string,
  operations: Operation[],
  breakGlassReason?: string,
): Promise<Result<Grant>> {
  return resultOf(
    client.POST('/v1/environments/{id}/access', {
      params: { path: { id: environmentId } },
      body: { operations, ...(breakGlassReason ? { breakGlassReason } : {}) },
    }),
  );
}

/** The typed client for the gateway a grant names, sending the grant as its bearer token. */
export function gatewayClient(grant: Grant): GatewayClient {
  const client = createClient<gatewayPaths>({ baseUrl: grant.gatewayUrl, credentials: 'omit' });
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${grant.token}`);
      return request;
    },
  };
  client.use(bearer);
  return client;
}

/** Browsers cannot set headers on a WebSocket, so the grant travels as a subprotocol. */
export const grantProtocolPrefix = 'hangar-grant.';

/** The WebSocket URL of a gateway path, and the subprotocols that carry the grant. */
export function gatewaySocket(grant: Grant, path: string): { url: string; protocols: string[] } {
  const base = grant.gatewayUrl.endsWith('/') ? grant.gatewayUrl : `${grant.gatewayUrl}/`;
  const url = new URL(path.replace(/^\/+/, ''), base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return { url: url.toString(), protocols: ['hangar.v1', `${grantProtocolPrefix}${grant.token}`] };
}
