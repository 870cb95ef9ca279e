import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import {
  compileRequestValidator,
  newId,
  toErrorBody,
  toHangarError,
  HangarError,
} from '@hangar/api';
import { checkGrant, type GatewayRule } from './access.js';
import type { GatewayDeps } from './deps.js';
import { execRoutes } from './exec-routes.js';
import { fileRoutes } from './file-routes.js';
import { logsRoute } from './logs-route.js';

export interface GatewayRoute {
  method: string;
  url: string;
  grant: GatewayRule | undefined;
}

/**
 * The runner's data plane, which clients reach directly: exec, files and logs of the
 * environments this runner holds. Command output and file contents go from here to the client
 * and nowhere else. Every route declares the grant it needs; one without is refused at build.
 */
export async function startGateway(
  deps: GatewayDeps,
  options: { host: string; port: number; publicUrl?: string },
) {
  const routes: GatewayRoute[] = [];
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'gateway' }),
    genReqId: () => newId('req'),
    bodyLimit: 1024 * 1024,
  });
  app.setValidatorCompiler(({ schema, httpPart }) => compileRequestValidator(schema, httpPart));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler((error, request, reply) => {
    const hangar = toHangarError(error);
    if (hangar.code === 'internal') request.log.error({ err: error }, 'request failed');
    return reply.status(hangar.status).send(toErrorBody(hangar, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new HangarError(
      'not_found',
      `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    );
    return reply.status(404).send(toErrorBody(error, request.id));
  });
  app.addHook('onRoute', (route) => {
    const grant = route.config?.grant;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      if (method !== 'HEAD') routes.push({ method, url: route.url, grant });
    if (!grant) throw new Error(`gateway route ${route.url} declares no grant rule`);
    const existing = route.onRequest;
    const handlers = existing ? (Array.isArray(existing) ? existing : [existing]) : [];
    route.onRequest = [checkGrant(deps, grant), ...handlers];
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  app.get(
    '/v1/health',
    { config: { grant: { kind: 'public', why: 'liveness probes carry no credentials' } } },
    async () => ({ ok: true }),
  );
  await app.register(execRoutes(deps));
  await app.register(fileRoutes(deps));
  await app.register(logsRoute(deps));
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = options.publicUrl ?? `http://${host}:${address.port}`;
  return { url, routes, close: () => app.close() };
}
