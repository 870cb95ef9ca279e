import { Type } from 'typebox';
import {
  AccessTokenResponse,
  CreateAccessTokenBody,
  CreateEnvironmentBody,
  EnvironmentSchema,
  Id,
} from '@hangar/api';
import type { Context } from '../context.js';
import { builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { createAccessGrant } from '../services/access-grants.js';
import {
  createEnvironment,
  getEnvironment,
  listEnvironments,
  transitionEnvironment,
  watchEnvironment,
} from '../services/environments.js';
import type { Operation } from '../services/transitions.js';
import { metaOf, routes } from './plugin.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export function environmentRoutes(context: Context) {
  return routes((app) => {
    app.post(
      '/v1/environments',
      {
        config: { access: userRule('environments:write', builders) },
        schema: {
          summary: 'Create an environment; the runner reports its progress in status',
          body: CreateEnvironmentBody,
          response: { 201: EnvironmentSchema },
        },
      },
      async (request, reply) => {
        const environment = await createEnvironment(
          context,
          principalOf(request),
          request.body,
          metaOf(request),
        );
        reply.status(201);
        return environment;
      },
    );

    app.get(
      '/v1/environments',
      {
        config: { access: userRule('environments:read', builders) },
        schema: {
          summary: 'List environments: your own, or all of the organization for admins',
          querystring: Type.Object(
            { includeDeleted: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ environments: Type.Array(EnvironmentSchema) }) },
        },
      },
      async (request) => ({
        environments: await listEnvironments(context, principalOf(request), {
          includeDeleted: request.query.includeDeleted ?? false,
        }),
      }),
    );

    app.get(
      '/v1/environments/:id',
      {
        config: { access: userRule('environments:read', builders, 'org') },
        schema: {
          summary: 'One environment; with afterVersion, waits for its status to change',
          params: IdParams,
          querystring: Type.Object(
            {
              afterVersion: Type.Optional(Type.Integer({ minimum: 0 })),
              waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: EnvironmentSchema },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { afterVersion, waitMs } = request.query;
        if (afterVersion === undefined)
          return getEnvironment(context, principal, request.params.id);
        return watchEnvironment(context, principal, request.params.id, {
          afterVersion,
          waitMs: waitMs ?? 30000,
        });
      },
    );

    const transition = (operation: Operation) => ({
      config: { access: userRule('environments:write', builders, 'owner-or-admin') },
      schema: {
        summary: `${operation[0]?.toUpperCase()}${operation.slice(1)} an environment`,
        description:
          'Accepted (202) when it changes the desired phase, 200 when it already was; 409 with ' +
          'code operation_in_progress when another operation is still running.',
        params: IdParams,
        response: { 200: EnvironmentSchema, 202: EnvironmentSchema },
      },
    });

    for (const operation of ['start', 'stop'] as const) {
      app.post(
        `/v1/environments/:id/${operation}`,
        transition(operation),
        async (request, reply) => {
          const result = await transitionEnvironment(
            context,
            principalOf(request),
            request.params.id,
            operation,
            metaOf(request),
          );
          reply.status(result.changed ? 202 : 200);
          return result.environment;
        },
      );
    }

    app.delete('/v1/environments/:id', transition('delete'), async (request, reply) => {
      const result = await transitionEnvironment(
        context,
        principalOf(request),
        request.params.id,
        'delete',
        metaOf(request),
      );
      reply.status(result.changed ? 202 : 200);
      return result.environment;
    });

    app.post(
      '/v1/environments/:id/access',
      {
        config: { access: userRule('environments:read', builders, 'owner') },
        schema: {
          summary: 'A short-lived token for the runner gateway of this environment',
          params: IdParams,
          body: CreateAccessTokenBody,
          response: { 201: AccessTokenResponse },
        },
      },
      async (request, reply) => {
        const grant = await createAccessGrant(
          context,
          principalOf(request),
          request.params.id,
          request.body.operations,
          metaOf(request),
          { breakGlassReason: request.body.breakGlassReason },
        );
        reply.status(201);
        return grant;
      },
    );
  });
}
