import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RequestMeta } from '../context.js';

/** A route plugin: registered on the app, typed by the TypeBox schemas it declares. */
export function routes(define: (app: ReturnType<typeof typed>) => void) {
  return async (app: FastifyInstance) => {
    define(typed(app));
  };
}

function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

export function metaOf(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, sourceAddress: request.ip };
}
