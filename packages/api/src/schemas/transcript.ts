import { Type, type Static } from 'typebox';
import { agentTaskStates } from './agents.js';

/**
 * One line of an agent task's transcript, as the runner's gateway serves it (JSON lines at
 * `GET /v1/agent-tasks/:id/transcript`). The transcript stays on the runner; these shapes are
 * what its owner's CLI and dashboard read.
 */
const Counts = {
  steps: Type.Optional(Type.Integer({ minimum: 0 })),
  inputTokens: Type.Optional(Type.Integer({ minimum: 0 })),
  outputTokens: Type.Optional(Type.Integer({ minimum: 0 })),
  toolCalls: Type.Optional(Type.Integer({ minimum: 0 })),
  malformed: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const TranscriptEntrySchema = Type.Union([
  Type.Object({ type: Type.Literal('prompt'), text: Type.String() }),
  Type.Object({
    type: Type.Literal('model'),
    step: Type.Integer(),
    text: Type.String({ description: 'what the model said besides its tool calls' }),
    toolCalls: Type.Array(
      Type.Object({ id: Type.String(), name: Type.String(), arguments: Type.String() }),
    ),
    usage: Type.Object({ inputTokens: Type.Integer(), outputTokens: Type.Integer() }),
    durationMs: Type.Number(),
  }),
  Type.Object({
    type: Type.Literal('tool'),
    step: Type.Integer(),
    callId: Type.String(),
    name: Type.String(),
    isError: Type.Boolean(),
    result: Type.String({ description: 'what the tool answered, cut at 16 KiB' }),
    elapsedMs: Type.Number(),
    commandMs: Type.Optional(Type.Number()),
  }),
  Type.Object({
    type: Type.Literal('malformed'),
    step: Type.Integer(),
    callId: Type.Optional(Type.String({ description: 'the call refused, when there was one' })),
    message: Type.String(),
  }),
  Type.Object({
    type: Type.Literal('command'),
    processId: Type.String(),
    argv: Type.Array(Type.String()),
  }),
  Type.Object({ type: Type.Literal('output'), text: Type.String() }),
  Type.Object({ type: Type.Literal('output-gap'), bytes: Type.Integer() }),
  Type.Object({ type: Type.Literal('error'), message: Type.String() }),
  Type.Object({
    type: Type.Literal('end'),
    state: Type.Enum([...agentTaskStates]),
    reason: Type.Optional(Type.String()),
    summary: Type.Optional(Type.String()),
    ...Counts,
  }),
]);

export type TranscriptEntry = Static<typeof TranscriptEntrySchema>;

/** A transcript line as served: the entry and when it was written. */
export const TranscriptLineSchema = Type.Intersect([
  Type.Object({ time: Type.String({ format: 'date-time' }) }),
  TranscriptEntrySchema,
]);
