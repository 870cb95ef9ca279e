import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { newId } from '@hangar/api';
import type { Context } from './context.js';
import './http/fastify-types.js';
import { authenticateFor } from './http/authenticate.js';
import { errorHandlerFor, notFoundHandler } from './http/errors.js';
import { validatorCompiler } from './http/validation.js';
import type { AccessRule } from './http/access-rules.js';
import { agentTaskRoutes } from './routes/agent-tasks.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { environmentRoutes } from './routes/environments.js';
import { metaRoutes } from './routes/meta.js';
import { oidcConfigRoutes } from './routes/oidc-config.js';
import { memberRoutes } from './routes/members.js';
import { orgRoutes } from './routes/org.js';
import { portRoutes } from './routes/ports.js';
import { runnerRoutes } from './routes/runners.js';
import { secretRoutes } from './routes/secrets.js';
import { signingKeyRoutes } from './routes/signing-keys.js';
import { sshKeyRoutes } from './routes/ssh-keys.js';
import { tokenRoutes } from './routes/tokens.js';
import { webRoutes } from './routes/web.js';
import { webSessionRoutes } from './routes/web-session.js';
import type { RunnerHub } from './runner-hub/hub.js';

export type App = FastifyInstance;

export interface RouteRecord {
  method: string;
  url: string;
  access: AccessRule | undefined;
}

/**
 * Makes every route declare `config.access` and puts its check in front of the handler. A route
 * without a rule throws when it is added, so the app cannot start with one.
 */
export function enforceAccessRules(
  app: { addHook(name: 'onRoute', hook: (route: RouteOptions) => void): unknown },
  context: Context,
  routes: RouteRecord[],
) {
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url, access });
    }
    if (!access) {
      throw new Error(`route ${methods.join(',')} ${route.url} declares no access rule`);
    }
    const authenticate = authenticateFor(context, access);
    const existing = route.onRequest;
    const handlers = existing ? (Array.isArray(existing) ? existing : [existing]) : [];
    route.onRequest = [authenticate, ...handlers];
  });
}

/**
 * Builds the HTTP API. Every route must declare `config.access`; one that does not stops the
 * app from being built, and `routes` lists them all for the test that checks this.
 */
export async function buildApp(context: Context, hub: RunnerHub) {
  const routes: RouteRecord[] = [];
  const app = Fastify({
    loggerInstance: context.logger.child({ component: 'http' }),
    genReqId: () => newId('req'),
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandlerFor(context));
  app.setNotFoundHandler(notFoundHandler);
  enforceAccessRules(app, context, routes);
  app.addHook('onSend', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hangar control plane',
        version: '1',
        description:
          'Organizations, runners, environments and the audit log. Source code, file contents, ' +
          'terminal streams and command output never pass through this API.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(websocket, { options: { maxPayload: 4 * 1024 * 1024 } });
  await app.register(metaRoutes(context));
  await app.register(tokenRoutes(context));
  await app.register(runnerRoutes(context, hub));
  await app.register(environmentRoutes(context));
  await app.register(auditRoutes(context));
  await app.register(sshKeyRoutes(context));
  await app.register(portRoutes(context));
  await app.register(orgRoutes(context));
  await app.register(authRoutes(context));
  await app.register(oidcConfigRoutes(context));
  await app.register(signingKeyRoutes(context));
  await app.register(secretRoutes(context));
  await app.register(memberRoutes(context));
  await app.register(agentTaskRoutes(context));
  await app.register(webSessionRoutes(context));
  await app.register(webRoutes(context));
  await app.ready();
  return { app, routes };
}
