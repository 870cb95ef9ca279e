import { Type } from 'typebox';
import { AgentTaskSchema, CreateAgentTaskBody, Id } from '@hangar/api';
import type { Context } from '../context.js';
import { allRoles, builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import {
  createAgentTask,
  getAgentTask,
  listAgentTasks,
  stopAgentTask,
} from '../services/agent-tasks.js';
import { metaOf, routes } from './plugin.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export function agentTaskRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/agent-tasks',
      {
        config: { access: userRule('environments:exec', builders) },
        schema: {
          summary: 'Start an agent task in your environment, or in a fresh one from a repository',
          description:
            'The body carries the SHA-256 of the prompt, never the prompt: send the prompt to ' +
            "the runner gateway's POST /v1/agent-tasks/:id/prompt with a grant for op agent.",
          body: CreateAgentTaskBody,
          response: { 201: AgentTaskSchema },
        },
      },
      async (request, reply) => {
        const task = await createAgentTask(
          context,
          principalOf(request),
          request.body,
          metaOf(request),
        );
        reply.status(201);
        return task;
      },
    );

    app.get(
      '/v1/agent-tasks',
      {
        config: { access: userRule('environments:read', allRoles) },
        schema: {
          summary: 'List your agent tasks; owners and admins may ask for all with all=1',
          querystring: Type.Object(
            { all: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ agentTasks: Type.Array(AgentTaskSchema) }) },
        },
      },
      async (request) => ({
        agentTasks: await listAgentTasks(context, principalOf(request), {
          all: request.query.all ?? false,
        }),
      }),
    );

    app.get(
      '/v1/agent-tasks/:id',
      {
        config: { access: userRule('environments:read', allRoles) },
        schema: {
          summary: 'One agent task: its state, counts and digests (owner or admin)',
          params: IdParams,
          response: { 200: AgentTaskSchema },
        },
      },
      async (request) => getAgentTask(context, principalOf(request), request.params.id),
    );

    app.post(
      '/v1/agent-tasks/:id/stop',
      {
        config: { access: userRule('environments:exec', builders) },
        schema: {
          summary: 'Stop an agent task: its runner ends the loop and every command it started',
          description:
            'Accepted (202) when it asks the runner to stop, 200 when it already did; 409 when ' +
            'the task has ended.',
          params: IdParams,
          response: { 200: AgentTaskSchema, 202: AgentTaskSchema },
        },
      },
      async (request, reply) => {
        const result = await stopAgentTask(
          context,
          principalOf(request),
          request.params.id,
          metaOf(request),
        );
        reply.status(result.changed ? 202 : 200);
        return result.task;
      },
    );
  });
}
