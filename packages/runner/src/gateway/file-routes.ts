import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { FileEntrySchema, Id, type AuditAction } from '@hangar/api';
import { claimsOf } from './access.js';
import type { GatewayDeps } from './deps.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const PathQuery = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
const WriteQuery = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    mode: Type.Optional(
      Type.String({ pattern: '^0?[0-7]{3,4}$', description: 'octal, e.g. 0644' }),
    ),
  },
  { additionalProperties: false },
);
const maxFileBytes = 256 * 1024 * 1024;

/** Reads, writes and lists files inside the environment; contents never reach the control plane. */
export function fileRoutes(deps: GatewayDeps) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: maxFileBytes },
      (_request, body, done) => done(null, body),
    );

    const audited = async <T>(
      request: { id: string; ip: string },
      what: {
        action: AuditAction;
        environmentId: string;
        path: string;
        actor: ReturnType<typeof claimsOf>;
      },
      work: () => Promise<T>,
      details: (result: T) => Record<string, string | number | boolean | null> = () => ({}),
    ): Promise<T> => {
      const base = {
        actor: what.actor.act,
        action: what.action,
        target: { kind: 'environment', id: what.environmentId },
        requestId: request.id,
        sourceAddress: request.ip,
      };
      try {
        const result = await work();
        await deps.audit.append({
          ...base,
          outcome: 'success',
          details: { path: what.path.slice(0, 1000), grant: what.actor.jti, ...details(result) },
        });
        return result;
      } catch (error) {
        await deps.audit.append({
          ...base,
          outcome: 'failure',
          details: {
            path: what.path.slice(0, 1000),
            grant: what.actor.jti,
            code: (error as { code?: string }).code ?? 'internal',
          },
        });
        throw error;
      }
    };

    app.get(
      '/v1/environments/:id/files',
      {
        config: { grant: { kind: 'grant', operation: 'files:read' } },
        schema: { params: IdParams, querystring: PathQuery },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { path } = request.query;
        const envd = await deps.envd(id);
        try {
          const data = await audited(
            request,
            { action: 'environment.file.read', environmentId: id, path, actor: claimsOf(request) },
            () => envd.readFile(path, { maxBytes: maxFileBytes }),
            (result) => ({ bytes: result.length }),
          );
          return reply.type('application/octet-stream').send(data);
        } finally {
          envd.close();
        }
      },
    );

    app.put(
      '/v1/environments/:id/files',
      {
        config: { grant: { kind: 'grant', operation: 'files:write' } },
        bodyLimit: maxFileBytes,
        schema: { params: IdParams, querystring: WriteQuery },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { path, mode } = request.query;
        const data = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        deps.activity.touch(id);
        const envd = await deps.envd(id);
        try {
          await audited(
            request,
            { action: 'environment.file.write', environmentId: id, path, actor: claimsOf(request) },
            () => envd.writeFile(path, data, mode ? { mode: parseInt(mode, 8) } : {}),
            () => ({ bytes: data.length }),
          );
          return reply.status(204).send();
        } finally {
          envd.close();
        }
      },
    );

    app.get(
      '/v1/environments/:id/files/list',
      {
        config: { grant: { kind: 'grant', operation: 'files:read' } },
        schema: {
          params: IdParams,
          querystring: PathQuery,
          response: { 200: Type.Object({ entries: Type.Array(FileEntrySchema) }) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const { path } = request.query;
        const envd = await deps.envd(id);
        try {
          const entries = await audited(
            request,
            { action: 'environment.file.list', environmentId: id, path, actor: claimsOf(request) },
            () => envd.listDir(path),
            (result) => ({ entries: result.length }),
          );
          return { entries };
        } finally {
          envd.close();
        }
      },
    );
  };
}
