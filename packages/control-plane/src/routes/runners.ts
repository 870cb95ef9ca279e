import { Type } from 'typebox';
import {
  CreateRunnerBody,
  CreateRunnerResponse,
  EnrollBody,
  EnrollResponse,
  Id,
  RunnerSchema,
} from '@hangar/api';
import type { Context } from '../context.js';
import { orgReaders, runnerAdmins, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import type { RunnerHub } from '../runner-hub/hub.js';
import { requestKeyRotation, setRunnerDisabled } from '../services/runner-trust.js';
import { createRunner, enrollRunner, getRunner, listRunners } from '../services/runners.js';
import { metaOf, routes } from './plugin.js';

export function runnerRoutes(context: Context, hub: RunnerHub) {
  return routes((app) => {
    app.post(
      '/v1/runners',
      {
        config: { access: userRule('runners:admin', runnerAdmins) },
        schema: {
          summary: 'Create a runner and its single-use enrollment token',
          body: CreateRunnerBody,
          response: { 201: CreateRunnerResponse },
        },
      },
      async (request, reply) => {
        const created = await createRunner(
          context,
          principalOf(request),
          request.body.name,
          metaOf(request),
        );
        reply.status(201);
        return created;
      },
    );

    app.get(
      '/v1/runners',
      {
        config: { access: userRule('environments:read', orgReaders) },
        schema: {
          summary: 'List the organization runners',
          response: { 200: Type.Object({ runners: Type.Array(RunnerSchema) }) },
        },
      },
      async (request) => ({ runners: await listRunners(context, principalOf(request)) }),
    );

    app.get(
      '/v1/runners/:id',
      {
        config: { access: userRule('environments:read', orgReaders) },
        schema: {
          summary: 'One runner',
          params: Type.Object({ id: Id }, { additionalProperties: false }),
          response: { 200: RunnerSchema },
        },
      },
      async (request) => getRunner(context, principalOf(request), request.params.id),
    );

    const oneRunner = Type.Object({ id: Id }, { additionalProperties: false });
    for (const [action, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      app.post(
        `/v1/runners/:id/${action}`,
        {
          config: { access: userRule('runners:admin', runnerAdmins) },
          schema: {
            summary: disabled
              ? 'Disable a runner: its connection is closed now and refused until enabled'
              : 'Enable a disabled runner again',
            params: oneRunner,
            response: { 200: RunnerSchema },
          },
        },
        async (request) =>
          setRunnerDisabled(context, hub, {
            principal: principalOf(request),
            runnerId: request.params.id,
            disabled,
            meta: metaOf(request),
          }),
      );
    }

    app.post(
      '/v1/runners/:id/rotate-key',
      {
        config: { access: userRule('runners:admin', runnerAdmins) },
        schema: {
          summary: 'Ask a runner to replace its key pair; it proves the new key when connected',
          params: oneRunner,
          response: { 200: RunnerSchema },
        },
      },
      async (request) =>
        requestKeyRotation(context, hub, {
          principal: principalOf(request),
          runnerId: request.params.id,
          meta: metaOf(request),
        }),
    );

    app.post(
      '/v1/runners/enroll',
      {
        config: { access: { kind: 'enrollment' } },
        schema: {
          summary: 'A runner registers its public key with an enrollment token',
          security: [],
          body: EnrollBody,
          response: { 200: EnrollResponse },
        },
      },
      async (request) => enrollRunner(context, request.body, metaOf(request)),
    );

    app.get(
      '/v1/runners/connect',
      {
        websocket: true,
        config: { access: { kind: 'runner' } },
        schema: {
          summary: 'The runner outbound WebSocket; it proves itself by signing a challenge',
          security: [],
        },
      },
      (socket, request) => hub.accept(socket, request.ip),
    );
  });
}
