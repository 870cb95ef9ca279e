import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  Id,
  PortListSchema,
  reservedPortProblem,
  type DesiredEnvironment,
  type PortEntry,
} from '@hangar/api';
import { portLook, type PortsConfig } from '../devcontainer/index.js';
import type { ListeningPort } from '../providers/provider.js';
import type { GatewayDeps } from './deps.js';
import { levelOf } from './port-access.js';
import type { PortUrls } from './port-target.js';

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

/**
 * One entry per port: every socket envd saw listening on it, and every port devcontainer.json
 * forwards (listed while nothing listens), with its attributes, share level and proxy URL.
 */
export function mergePorts(options: {
  environmentId: string;
  listening: readonly ListeningPort[];
  config: PortsConfig;
  desired: DesiredEnvironment | undefined;
  urls: PortUrls;
}): PortEntry[] {
  const { environmentId, config, desired, urls } = options;
  // The egress proxy listens inside every environment; it is the runner's, not the owner's.
  const listening = options.listening.filter(
    (entry) => reservedPortProblem(entry.port) === undefined,
  );
  const forwarded = config.forwardPorts.filter((port) => reservedPortProblem(port) === undefined);
  const numbers = new Set([...listening.map((entry) => entry.port), ...forwarded]);
  return [...numbers]
    .sort((a, b) => a - b)
    .map((port) => {
      const sockets = listening.filter((entry) => entry.port === port);
      const hostUrl = urls.hostUrl(environmentId, port);
      return {
        port,
        listening: sockets.length > 0,
        addresses: sockets.map(({ address, family, loopbackOnly }) => ({
          address,
          family,
          loopbackOnly,
        })),
        loopbackOnly: sockets.length > 0 ? sockets.every((entry) => entry.loopbackOnly) : null,
        process: sockets.find((entry) => entry.process)?.process ?? null,
        forwarded: config.forwardPorts.includes(port),
        ...portLook(config, port),
        share: desired ? levelOf(desired, port) : 'private',
        url: urls.pathUrl(environmentId, port),
        ...(hostUrl ? { hostUrl } : {}),
      };
    });
}

/** `GET /v1/environments/:id/ports`: what listens inside, merged with devcontainer.json. */
export function portRoutes(deps: GatewayDeps, urls: PortUrls) {
  return async (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/v1/environments/:id/ports',
      {
        config: { grant: { kind: 'grant', operation: 'ports:read' } },
        schema: { params: IdParams, response: { 200: PortListSchema } },
      },
      async (request) => {
        const { id } = request.params;
        const envd = await deps.envd(id);
        try {
          const listening = await envd.listPorts();
          return {
            ports: mergePorts({
              environmentId: id,
              listening,
              config: deps.portsConfig(id),
              desired: deps.desired(id),
              urls,
            }),
          };
        } finally {
          envd.close();
        }
      },
    );
  };
}
