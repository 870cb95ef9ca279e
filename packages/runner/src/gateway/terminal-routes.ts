import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import { Id } from '@hangar/api';
import { claimsOf } from './access.js';
import type { GatewayDeps } from './deps.js';
import { defaultStreamLimits } from './stream-output.js';
import { TerminalConnection, type TerminalLimits } from './terminal-session.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const defaultTerminalLimits: TerminalLimits = {
  stream: defaultStreamLimits,
  firstMessageMs: 30_000,
  offsetEveryMs: 250,
  keepaliveMs: 30_000,
};

/**
 * `GET /v1/environments/:id/terminal`: a pseudo-terminal over a WebSocket. The first message
 * opens a new terminal or attaches to one of the caller's own; then output and input are
 * binary messages, and `{type:'resize'}`, `{type:'offset'}`, `{type:'exit'}` text ones.
 */
export function terminalRoutes(deps: GatewayDeps, limits: TerminalLimits = defaultTerminalLimits) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/v1/environments/:id/terminal',
      {
        websocket: true,
        config: { grant: { kind: 'grant', operation: 'terminal' } },
        schema: { params: IdParams },
      },
      (socket: WebSocket, request) => {
        const connection = new TerminalConnection(deps, limits, socket, {
          environmentId: request.params.id,
          claims: claimsOf(request),
          requestId: request.id,
          sourceAddress: request.ip,
        });
        connection.listen();
      },
    );
  };
}
