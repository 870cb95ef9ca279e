import { PortAccessResponse, PortParams, PortShareSchema, SetPortShareBody } from '@hangar/api';
import type { Context } from '../context.js';
import { builders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { createPortGrant } from '../services/port-access.js';
import { setPortShare } from '../services/port-shares.js';
import { metaOf, routes } from './plugin.js';

export function portRoutes(context: Context) {
  return routes((app) => {
    app.put(
      '/v1/environments/:id/ports/:port',
      {
        config: { access: userRule('environments:write', builders, 'owner') },
        schema: {
          summary: 'Share a port of your environment: private, org or public',
          description:
            'Owner only. public is refused while the organization policy maxPortShareLevel ' +
            'is lower. The runner applies the change without restarting anything.',
          params: PortParams,
          body: SetPortShareBody,
          response: { 200: PortShareSchema },
        },
      },
      async (request) =>
        setPortShare(
          context,
          principalOf(request),
          {
            environmentId: request.params.id,
            port: request.params.port,
            level: request.body.level,
          },
          metaOf(request),
        ),
    );

    app.post(
      '/v1/environments/:id/ports/:port/access',
      {
        config: { access: userRule('environments:exec', builders, 'org') },
        schema: {
          summary: 'A short-lived grant for one port, if its share level admits you',
          description:
            'private admits only the owner; org and public admit any member of the ' +
            'organization. The URL is the runner gateway path of the port.',
          params: PortParams,
          response: { 201: PortAccessResponse },
        },
      },
      async (request, reply) => {
        const grant = await createPortGrant(
          context,
          principalOf(request),
          { environmentId: request.params.id, port: request.params.port },
          metaOf(request),
        );
        reply.status(201);
        return grant;
      },
    );
  });
}
