import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import {
  ExecRequestSchema,
  ExecResultSchema,
  HangarError,
  Id,
  validator,
  type ErrorCode,
} from '@hangar/api';
import { claimsOf } from './access.js';
import type { GatewayDeps } from './deps.js';
import { runExec } from './exec-service.js';
import { StdinPipe } from './stdin-pipe.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const maxBufferedOutputBytes = 256 * 1024 * 1024;

const StreamStart = Type.Object(
  {
    command: ExecRequestSchema.properties.command,
    cwd: ExecRequestSchema.properties.cwd,
    env: ExecRequestSchema.properties.env,
    timeoutMs: ExecRequestSchema.properties.timeoutMs,
    stdin: Type.Optional(Type.Boolean({ description: 'true when binary stdin frames follow' })),
  },
  { additionalProperties: false },
);
const checkStreamStart = validator(StreamStart, 'exec stream start');

/** Frame tags of the exec stream: the first byte of every binary frame. */
export const streamTag = { stdin: 0, stdout: 1, stderr: 2 } as const;

export function execRoutes(deps: GatewayDeps) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/environments/:id/exec',
      {
        config: { grant: { kind: 'grant', operation: 'exec' } },
        bodyLimit: 96 * 1024 * 1024,
        schema: { params: IdParams, body: ExecRequestSchema, response: { 200: ExecResultSchema } },
      },
      async (request) => {
        const { id } = request.params;
        const body = request.body;
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let total = 0;
        const abort = new AbortController();
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          total += chunk.length;
          if (total > maxBufferedOutputBytes) abort.abort();
          else into.push(chunk);
        };
        const { stdin, ...rest } = body;
        const outcome = await runExec(deps, {
          claims: claimsOf(request),
          environmentId: id,
          request: rest,
          ...(stdin !== undefined ? { stdin: Buffer.from(stdin, 'base64') } : {}),
          requestId: request.id,
          sourceAddress: request.ip,
          onStdout: collect(stdout),
          onStderr: collect(stderr),
          signal: abort.signal,
        });
        if (abort.signal.aborted) {
          throw new HangarError(
            'payload_too_large',
            'the command printed more than 256 MiB; use the streaming exec endpoint',
          );
        }
        return {
          ...outcome,
          stdout: Buffer.concat(stdout).toString('base64'),
          stderr: Buffer.concat(stderr).toString('base64'),
        };
      },
    );

    app.get(
      '/v1/environments/:id/exec/stream',
      {
        websocket: true,
        config: { grant: { kind: 'grant', operation: 'exec' } },
        schema: { params: IdParams },
      },
      (socket: WebSocket, request) => {
        const { id } = request.params;
        const claims = claimsOf(request);
        let started = false;
        const stdin = new StdinPipe();
        const abort = new AbortController();
        socket.on('close', () => {
          abort.abort();
          stdin.end();
        });
        socket.on('message', (data, isBinary) => {
          const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
          if (!started) {
            started = true;
            void start(bytes.toString('utf8'));
            return;
          }
          if (isBinary && bytes[0] === streamTag.stdin) stdin.push(bytes.subarray(1));
          else if (!isBinary && bytes.toString('utf8').includes('"stdin-end"')) stdin.end();
        });
        const send = (tag: number) => (chunk: Buffer) => {
          if (socket.readyState === socket.OPEN)
            socket.send(Buffer.concat([Buffer.from([tag]), chunk]));
        };
        const start = async (text: string) => {
          try {
            const begin = checkStreamStart(JSON.parse(text));
            const { stdin: wantsStdin, ...rest } = begin;
            if (!wantsStdin) stdin.end();
            const outcome = await runExec(deps, {
              claims,
              environmentId: id,
              request: rest,
              stdin,
              requestId: request.id,
              sourceAddress: request.ip,
              onStdout: send(streamTag.stdout),
              onStderr: send(streamTag.stderr),
              signal: abort.signal,
            });
            socket.send(JSON.stringify({ type: 'exit', ...outcome }));
            socket.close(1000);
          } catch (error) {
            const hangar = error instanceof HangarError ? error : undefined;
            const code: ErrorCode = hangar?.code ?? 'internal';
            const message = hangar?.message ?? 'the command could not run';
            if (!hangar) deps.logger.error({ err: error, environmentId: id }, 'exec stream failed');
            if (socket.readyState === socket.OPEN) {
              socket.send(JSON.stringify({ type: 'error', code, message, requestId: request.id }));
              socket.close(1011);
            }
          }
        };
      },
    );
  };
}
