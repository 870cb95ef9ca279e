import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import {
  Id,
  ProcessAttachQuery,
  ProcessDetailSchema,
  ProcessId,
  ProcessInfoSchema,
  ProcessListSchema,
  ProcessSignalBody,
  ProcessStartSchema,
  ProcessTailQuery,
  ProcessWaitQuery,
} from '@hangar/api';
import type { EnvdClient } from '../providers/provider.js';
import { claimsOf } from './access.js';
import type { GatewayDeps } from './deps.js';
import { attachToProcess, type AttachLimits } from './process-attach.js';
import { outputTail, signalOwnProcess, startProcess, waitAtMost } from './process-service.js';
import { isOwnedBy, ownProcess, processBody } from './processes.js';
import { defaultStreamLimits } from './stream-output.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const ProcessParams = Type.Object({ id: Id, pid: ProcessId }, { additionalProperties: false });
const exec = { grant: { kind: 'grant', operation: 'exec' } } as const;

export const defaultAttachLimits: AttachLimits = {
  stream: defaultStreamLimits,
  keepaliveMs: 30_000,
};

/** Runs `work` with the environment's envd and closes the connection afterwards. */
async function withEnvd<T>(
  deps: GatewayDeps,
  environmentId: string,
  work: (envd: EnvdClient) => Promise<T>,
): Promise<T> {
  const envd = await deps.envd(environmentId);
  try {
    return await work(envd);
  } finally {
    envd.close();
  }
}

function callOf(request: FastifyRequest & { params: { id: string } }) {
  return {
    claims: claimsOf(request),
    environmentId: request.params.id,
    requestId: request.id,
    sourceAddress: request.ip,
  };
}

/**
 * Durable commands: started detached, they run on when their client goes away (up to their
 * timeout), and their caller may list them, read their output tail, attach to them, signal
 * them and wait for them. A caller sees only processes they started.
 */
export function processRoutes(deps: GatewayDeps, limits: AttachLimits = defaultAttachLimits) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/environments/:id/processes',
      {
        config: exec,
        schema: {
          params: IdParams,
          body: ProcessStartSchema,
          response: { 201: ProcessInfoSchema },
        },
      },
      async (request, reply) => {
        const call = callOf(request);
        const info = await withEnvd(deps, call.environmentId, (envd) =>
          startProcess(deps, envd, { ...call, request: request.body }),
        );
        return reply.status(201).send(processBody(info));
      },
    );

    app.get(
      '/v1/environments/:id/processes',
      { config: exec, schema: { params: IdParams, response: { 200: ProcessListSchema } } },
      async (request) => {
        const claims = claimsOf(request);
        const all = await withEnvd(deps, request.params.id, (envd) => envd.listProcesses());
        return { processes: all.filter((info) => isOwnedBy(info, claims)).map(processBody) };
      },
    );

    app.get(
      '/v1/environments/:id/processes/:pid',
      {
        config: exec,
        schema: {
          params: ProcessParams,
          querystring: ProcessTailQuery,
          response: { 200: ProcessDetailSchema },
        },
      },
      async (request) => {
        const claims = claimsOf(request);
        const tailBytes = request.query.tailBytes ?? 64 * 1024;
        return withEnvd(deps, request.params.id, async (envd) => {
          const info = await ownProcess(envd, claims, request.params.pid);
          const masker = deps.maskerOf?.(request.params.id);
          const { fromOffset } = request.query;
          const range = { tailBytes, ...(fromOffset !== undefined ? { fromOffset } : {}) };
          const tail = await outputTail(envd, info, range, masker);
          return {
            ...processBody(info),
            outputTail: tail.data.toString('base64'),
            outputTailFrom: tail.from,
          };
        });
      },
    );

    app.post(
      '/v1/environments/:id/processes/:pid/signal',
      {
        config: exec,
        schema: {
          params: ProcessParams,
          body: ProcessSignalBody,
          response: { 200: ProcessInfoSchema },
        },
      },
      async (request) => {
        const call = callOf(request);
        return withEnvd(deps, call.environmentId, async (envd) => {
          const info = await ownProcess(envd, call.claims, request.params.pid);
          await signalOwnProcess(deps, envd, { ...call, info, signal: request.body.signal });
          return processBody(await ownProcess(envd, call.claims, info.id));
        });
      },
    );

    app.get(
      '/v1/environments/:id/processes/:pid/wait',
      {
        config: exec,
        schema: {
          params: ProcessParams,
          querystring: ProcessWaitQuery,
          response: { 200: ProcessInfoSchema },
        },
      },
      async (request, reply) => {
        const claims = claimsOf(request);
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        const timeoutMs = (request.query.timeoutS ?? 30) * 1000;
        return withEnvd(deps, request.params.id, async (envd) => {
          const info = await ownProcess(envd, claims, request.params.pid);
          return processBody(await waitAtMost(envd, info, { timeoutMs, signal: gone.signal }));
        });
      },
    );

    app.get(
      '/v1/environments/:id/processes/:pid/attach',
      {
        websocket: true,
        config: exec,
        schema: { params: ProcessParams, querystring: ProcessAttachQuery },
      },
      (socket: WebSocket, request) => {
        void attachToProcess(deps, limits, socket, {
          ...callOf(request),
          processId: request.params.pid,
          ...(request.query.fromOffset !== undefined
            ? { fromOffset: request.query.fromOffset }
            : {}),
        });
      },
    );
  };
}
