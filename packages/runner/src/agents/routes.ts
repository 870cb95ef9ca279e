import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { agentTaskStates, HangarError, Id } from '@hangar/api';
import { claimsOf, type GatewayRule } from '../gateway/access.js';
import type { AgentTaskManager } from './manager.js';

const TaskParams = Type.Object({ id: Id }, { additionalProperties: false });
const PromptBody = Type.Object(
  { prompt: Type.String({ minLength: 1, maxLength: 1024 * 1024 }) },
  { additionalProperties: false },
);
const PromptAccepted = Type.Object(
  { taskId: Id, state: Type.Enum([...agentTaskStates]) },
  { additionalProperties: false },
);
const TranscriptQuery = Type.Object(
  { follow: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])) },
  { additionalProperties: false },
);

type AgentRouteDeps = Pick<AgentTaskManager, 'environmentOf' | 'submitPrompt' | 'transcriptOf'>;

const notHereMessage = (id: string) =>
  `agent task ${id} is not on this runner (yet: a new task reaches it a moment after it is ` +
  'created)';

function notHere(id: string): HangarError {
  return new HangarError('not_found', notHereMessage(id));
}

/**
 * The grant these routes need: op `agent` for the environment the task runs in. A task this
 * runner does not know (yet) is `not_found` for a valid grant, which the CLI waits out.
 */
function agentRule(agents: AgentRouteDeps | undefined): GatewayRule {
  const idOf = (request: FastifyRequest) => (request.params as { id?: string }).id ?? '';
  return {
    kind: 'grant',
    operation: 'agent',
    environmentOf: (request) => agents?.environmentOf(idOf(request)),
    notHere: (request) => notHereMessage(idOf(request)),
  };
}

/**
 * The owner's side of an agent task at the runner: send its prompt once, read its transcript
 * (live with `follow=1`). The prompt and the transcript stay on this runner.
 */
export function agentRoutes(agents: AgentRouteDeps | undefined) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    const grant = agentRule(agents);
    app.post(
      '/v1/agent-tasks/:id/prompt',
      {
        config: { grant },
        bodyLimit: 2 * 1024 * 1024,
        schema: { params: TaskParams, body: PromptBody, response: { 202: PromptAccepted } },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!agents) throw notHere(id);
        const result = await agents.submitPrompt({
          taskId: id,
          prompt: request.body.prompt,
          actor: claimsOf(request).act,
          requestId: request.id,
          sourceAddress: request.ip,
        });
        return reply.status(202).send(result);
      },
    );

    app.get(
      '/v1/agent-tasks/:id/transcript',
      { config: { grant }, schema: { params: TaskParams, querystring: TranscriptQuery } },
      async (request, reply) => {
        const { id } = request.params;
        const found = agents?.transcriptOf(id);
        if (!found) throw notHere(id);
        const { act } = claimsOf(request);
        if (act.kind !== 'user' || act.id !== found.ownerId) {
          throw new HangarError(
            'forbidden',
            'only the owner of an agent task may read its transcript',
          );
        }
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        reply.raw.writeHead(200, {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'cache-control': 'no-store',
        });
        for await (const line of found.transcript.lines({
          follow: request.query.follow === '1',
          signal: gone.signal,
        })) {
          if (!reply.raw.write(`${line}\n`)) {
            await new Promise<void>((resolve) => {
              const done = () => {
                reply.raw.off('drain', done);
                reply.raw.off('close', done);
                resolve();
              };
              reply.raw.on('drain', done);
              reply.raw.on('close', done);
            });
          }
          if (gone.signal.aborted) break;
        }
        reply.raw.end();
        return reply;
      },
    );
  };
}
