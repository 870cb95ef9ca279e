import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Id } from '@hangar/api';
import { claimsOf } from './access.js';
import type { GatewayDeps } from './deps.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const LogQuery = Type.Object(
  { tailBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024 })) },
  { additionalProperties: false },
);

/** The end of the lifecycle log: what lifecycle commands printed, kept on the runner only. */
export function logsRoute(deps: GatewayDeps) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/v1/environments/:id/logs',
      {
        config: { grant: { kind: 'grant', operation: 'logs' } },
        schema: { params: IdParams, querystring: LogQuery },
      },
      async (request, reply) => {
        const { id } = request.params;
        const tailBytes = request.query.tailBytes ?? 1024 * 1024;
        const text = await readTail(deps.store.lifecycleLogPath(id), tailBytes);
        await deps.audit.append({
          actor: claimsOf(request).act,
          action: 'environment.logs.read',
          target: { kind: 'environment', id },
          outcome: 'success',
          requestId: request.id,
          sourceAddress: request.ip,
          details: { bytes: text.length, grant: claimsOf(request).jti },
        });
        return reply.type('text/plain; charset=utf-8').send(text);
      },
    );
  };
}

async function readTail(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!handle) return Buffer.alloc(0);
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await handle.close();
  }
}
