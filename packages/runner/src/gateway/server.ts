import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import {
  compileRequestValidator,
  newId,
  toErrorBody,
  toHangarError,
  HangarError,
} from '@hangar/api';
import { checkGrant, chooseProtocol, type GatewayRule } from './access.js';
import { applyCors } from './cors.js';
import { gatewayOpenApi } from './openapi.js';
import { agentRoutes } from '../agents/routes.js';
import type { GatewayDeps } from './deps.js';
import { execRoutes } from './exec-routes.js';
import { fileRoutes } from './file-routes.js';
import { logsRoute } from './logs-route.js';
import { PortProxy } from './port-proxy.js';
import { portRoutes } from './port-routes.js';
import { PortUrls } from './port-target.js';
import { processRoutes } from './process-routes.js';
import { terminalRoutes } from './terminal-routes.js';

export interface GatewayRoute {
  method: string;
  url: string;
  grant: GatewayRule | undefined;
}

const shareRule: GatewayRule = {
  kind: 'share',
  why: "checked on every request against the port's share level; public ports need no grant",
};

/**
 * The runner's data plane, which clients reach directly: exec, durable commands, terminals,
 * files, logs and ports of the environments this runner holds, and the proxy to shared ports.
 * Command output, terminal streams and file contents go from here to the client and nowhere
 * else. Every route declares the grant it needs; one without is refused at build.
 */
export async function startGateway(
  deps: GatewayDeps,
  options: { host: string; port: number; publicUrl?: string; portsDomain?: string },
) {
  const { app, routes, urls } = await buildGateway(deps, options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = options.publicUrl ?? `http://${host}:${address.port}`;
  urls.setBase(url);
  // The runner's own clients (the agent loop) dial the gateway here, on loopback.
  const loopback = address.family === 'IPv6' ? '[::1]' : '127.0.0.1';
  const localUrl = `http://${loopback}:${address.port}`;
  return { url, localUrl, routes, close: () => app.close() };
}

/**
 * The gateway's app with every route, not yet listening. Its OpenAPI document
 * (`GET /v1/openapi.json`) comes from the same schemas that validate, and names the shapes of
 * the messages that are not plain JSON bodies (terminal messages, transcript lines).
 */
export async function buildGateway(deps: GatewayDeps, options: { portsDomain?: string }) {
  const routes: GatewayRoute[] = [
    { method: 'ALL', url: '/ports/:id/:port/*', grant: shareRule },
    ...(options.portsDomain
      ? [{ method: 'ALL', url: `<port>-<id>.${options.portsDomain}/*`, grant: shareRule }]
      : []),
  ];
  const urls = new PortUrls(options.portsDomain);
  const proxy = new PortProxy(deps, urls, options.portsDomain);
  // WebSocket upgrades for the API reach the WebSocket plugin through this server, which never
  // listens; upgrades for shared ports go to the proxy.
  const apiUpgrades = createServer();
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'gateway' }),
    genReqId: () => newId('req'),
    bodyLimit: 1024 * 1024,
    serverFactory: (handler) => {
      const server = createServer((request: IncomingMessage, response: ServerResponse) => {
        const target = portTarget(proxy, request, response);
        if (target === undefined) {
          if (!applyCors(request, response, deps.dashboardOrigins?.() ?? [])) {
            handler(request, response);
          }
        } else if (target) void proxy.serve(request, response, target);
      });
      server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        let target;
        try {
          target = proxy.targetOf(request);
        } catch (error) {
          proxy.refuseUpgrade(socket, error);
          return;
        }
        if (target) void proxy.upgrade(request, socket, head, target);
        else apiUpgrades.emit('upgrade', request, socket, head);
      });
      return server;
    },
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
  app.addHook('preClose', async () => proxy.close());
  await app.register(swagger, { openapi: gatewayOpenApi });
  app.get(
    '/v1/openapi.json',
    {
      config: { grant: { kind: 'public', why: 'the API description holds no data' } },
      schema: { hide: true },
    },
    async () => app.swagger(),
  );
  await app.register(websocket, {
    options: {
      maxPayload: 16 * 1024 * 1024,
      server: apiUpgrades,
      handleProtocols: chooseProtocol,
    },
  });
  app.get(
    '/v1/health',
    { config: { grant: { kind: 'public', why: 'liveness probes carry no credentials' } } },
    async () => ({ ok: true }),
  );
  await app.register(execRoutes(deps));
  await app.register(fileRoutes(deps));
  await app.register(logsRoute(deps));
  await app.register(processRoutes(deps));
  await app.register(terminalRoutes(deps));
  await app.register(portRoutes(deps, urls));
  await app.register(agentRoutes(deps.agents));
  await app.ready();
  return { app, routes, urls };
}

/** The shared port a request is for; `undefined` for the API; `null` once a bad one is refused. */
function portTarget(proxy: PortProxy, request: IncomingMessage, response: ServerResponse) {
  try {
    return proxy.targetOf(request);
  } catch (error) {
    proxy.refuse(response, error);
    return null;
  }
}
