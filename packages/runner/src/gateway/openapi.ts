import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { TerminalResizeSchema, TerminalStartSchema, TranscriptLineSchema } from '@hangar/api';

type SchemaObject = Record<string, never>;

/** A TypeBox schema as the plain JSON Schema object the document holds. */
const plain = (schema: object) => JSON.parse(JSON.stringify(schema)) as SchemaObject;

/**
 * The head of the gateway's OpenAPI document. Routes add their paths; the messages that travel
 * outside JSON bodies (a terminal WebSocket's text messages, a transcript's JSON lines) are
 * named here as components, so clients type them from the same schemas the gateway checks.
 */
export const gatewayOpenApi: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.1.0',
  info: {
    title: 'Hangar runner gateway',
    version: '1',
    description:
      'The data plane of one runner: exec, processes, terminals, files, logs, ports and agent ' +
      'transcripts, reached directly by clients with a grant the control plane signed.',
  },
  components: {
    securitySchemes: { grant: { type: 'http', scheme: 'bearer' } },
    schemas: {
      TerminalStart: plain(TerminalStartSchema),
      TerminalResize: plain(TerminalResizeSchema),
      TranscriptLine: plain(TranscriptLineSchema),
    },
  },
  security: [{ grant: [] }],
};
