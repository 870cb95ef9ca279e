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
import { defaultStreamLimits, StreamOutput, type StreamLimits } from './stream-output.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });
const maxBufferedOutputBytes = 256 * 1024 * 1024;

const StreamStart = Type.Object(
  {
    command: ExecRequestSchema.properties.command,
    cwd: ExecRequestSchema.properties.cwd,
    env: ExecRequestSchema.properties.env,
    timeoutMs: ExecRequestSchema.properties.timeoutMs,
    mask: ExecRequestSchema.properties.mask,
    stdin: Type.Optional(Type.Boolean({ description: 'true when binary stdin frames follow' })),
  },
  { additionalProperties: false },
);
const checkStreamStart = validator(StreamStart, 'exec stream start');

/** Frame tags of the exec stream: the first byte of every binary frame. */
export const streamTag = { stdin: 0, stdout: 1, stderr: 2 } as const;

/**
 * `POST .../exec` collects the output (at most 256 MiB) and answers once the command ended;
 * `GET .../exec/stream` streams it over a WebSocket with backpressure both ways (see
 * {@link StreamOutput} and {@link StdinPipe}), within `limits`.
 */
export function execRoutes(deps: GatewayDeps, limits: StreamLimits = defaultStreamLimits) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/environments/:id/exec',
      {
        config: { grant: { kind: 'grant', operation: 'exec' } },
        bodyLimit: 96 * 1024 * 1024,
        schema: { params: IdParams, body: ExecRequestSchema, response: { 200: ExecResultSchema } },
      },
      async (request, reply) => {
        const { id } = request.params;
        const body = request.body;
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let total = 0;
        let tooMuch = false;
        const abort = new AbortController();
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          total += chunk.length;
          if (total > maxBufferedOutputBytes) {
            tooMuch = true;
            abort.abort();
          } else into.push(chunk);
        };
        // A client that hangs up before the answer ends its command (an agent being stopped).
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        const { stdin, ...rest } = body;
        deps.activity.touch(id);
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
        if (tooMuch) {
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
        // Known gap: while the command's input is full the client is not read at all, so a
        // client that hangs up then is noticed only once the command reads or ends.
        const stdin = new StdinPipe({
          highWaterBytes: limits.stdinHighWaterBytes,
          onPressure: (full) => (full ? socket.pause() : socket.resume()),
        });
        const abort = new AbortController();
        const output = new StreamOutput(socket, limits, (reason) => {
          deps.logger.warn(
            { environmentId: id, requestId: request.id, reason },
            'exec stream client fell too far behind; cut off and its command killed',
          );
          abort.abort();
        });
        socket.on('close', () => {
          abort.abort();
          stdin.close();
        });
        socket.on('message', (data, isBinary) => {
          const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
          if (!started) {
            started = true;
            void start(bytes.toString('utf8'));
            return;
          }
          if (isBinary && bytes[0] === streamTag.stdin) {
            deps.activity.touch(id);
            stdin.push(bytes.subarray(1));
          } else if (!isBinary && bytes.toString('utf8').includes('"stdin-end"')) stdin.end();
        });
        const start = async (text: string) => {
          try {
            const begin = checkStreamStart(JSON.parse(text));
            const { stdin: wantsStdin, ...rest } = begin;
            if (!wantsStdin) stdin.end();
            deps.activity.touch(id);
            const outcome = await runExec(deps, {
              claims,
              environmentId: id,
              request: rest,
              stdin,
              requestId: request.id,
              sourceAddress: request.ip,
              // runExec hands these to the envd client unchanged, which waits on the promise
              // they may return (`ExecOptions.onStdout`); its own type still says `void`.
              onStdout: (chunk) => output.send(streamTag.stdout, chunk),
              onStderr: (chunk) => output.send(streamTag.stderr, chunk),
              signal: abort.signal,
            });
            stdin.close();
            if (socket.readyState === socket.OPEN) {
              socket.send(JSON.stringify({ type: 'exit', ...outcome }));
              socket.close(1000);
            }
          } catch (error) {
            stdin.close();
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
