import type { FastifyReply, FastifyRequest } from 'fastify';
import { HangarError, toErrorBody, toHangarError } from '@hangar/api';

/** Maps every failure to the one error body: `{ code, message, requestId, fields? }`. */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const hangar = toHangarError(error);
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
