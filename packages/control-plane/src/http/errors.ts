import type { FastifyReply, FastifyRequest } from 'fastify';
import { HangarError, toErrorBody, toHangarError } from '@hangar/api';
import type { Context } from '../context.js';
import { actorOf } from './principal.js';

const refusals = new Set(['forbidden', 'not_found']);

/**
 * Maps every failure to the one error body: `{ code, message, requestId, fields? }`. A refusal
 * to a signed-in caller (what they may not see or do) is audited, like the refusals of the access
 * check itself, so probing for other people's resources leaves a trace.
 */
export const errorHandlerFor = (context: Context) =>
  async function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const hangar = toHangarError(error);
    const principal = request.principal;
    if (principal && refusals.has(hangar.code)) {
      await context.audit
        .record({
          orgId: principal.orgId,
          actor: actorOf(principal),
          action: 'access.denied',
          target: { kind: 'route', id: `${request.method} ${request.routeOptions.url ?? ''}` },
          outcome: 'denied',
          requestId: request.id,
          sourceAddress: request.ip,
          details: { code: hangar.code, resource: resourceOf(request) },
        })
        .catch(() => undefined);
    }
    return respond(hangar, error, request, reply);
  };

function resourceOf(request: FastifyRequest): string | null {
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id.slice(0, 100) : null;
}

function respond(
  hangar: HangarError,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (hangar.code === 'internal') {
    request.log.error({ err: error }, 'request failed');
  } else {
    request.log.info({ code: hangar.code }, hangar.message);
  }
  return reply.status(hangar.status).send(toErrorBody(hangar, request.id));
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0] ?? '';
  const error = new HangarError('not_found', `no route ${request.method} ${path}`);
  return reply.status(404).send(toErrorBody(error, request.id));
}
