import { Type, type Static } from 'typebox';
import { ActorSchema, Id, Timestamp } from './schemas/common.js';
import {
  EnvironmentName,
  EnvironmentSpecSchema,
  EnvironmentStatusSchema,
} from './schemas/environments.js';
import { RunnerClassSchema } from './schemas/runners.js';
import { AuditDetails, AuditOutcome, AuditTargetSchema } from './schemas/audit.js';

/** Messages on the runner's outbound WebSocket. Every message is one JSON text frame. */
export const runnerProtocolVersion = 1;

/** What the runner must converge to for one environment. */
export const DesiredEnvironmentSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    ownerId: Id,
    name: EnvironmentName,
    generation: Type.Integer({ minimum: 1 }),
    spec: EnvironmentSpecSchema,
  },
  { additionalProperties: false },
);

export type DesiredEnvironment = Static<typeof DesiredEnvironmentSchema>;

/** An audit record as the runner queues it; the control plane chains it. */
export const RunnerAuditRecordSchema = Type.Object(
  {
    localSeq: Type.Integer({ minimum: 1 }),
    time: Timestamp,
    actor: ActorSchema,
    action: Type.String({ maxLength: 100 }),
    target: Type.Union([AuditTargetSchema, Type.Null()]),
    outcome: AuditOutcome,
    requestId: Type.String({ maxLength: 100 }),
    sourceAddress: Type.String({ maxLength: 100 }),
    details: AuditDetails,
  },
  { additionalProperties: false },
);

export type RunnerAuditRecord = Static<typeof RunnerAuditRecordSchema>;

// Control plane to runner.

export const ChallengeMessage = Type.Object(
  { type: Type.Literal('challenge'), nonce: Type.String() },
  { additionalProperties: false },
);

export const WelcomeMessage = Type.Object(
  {
    type: Type.Literal('welcome'),
    runnerId: Id,
    orgId: Id,
    controlPlanePublicKey: Type.String(),
    heartbeatIntervalMs: Type.Integer({ minimum: 100 }),
    signature: Type.String({
      maxLength: 200,
      description: 'the control plane key over controlPlaneWelcomeMessage, base64url',
    }),
    auditAckedSeq: Type.Integer({ minimum: 0 }),
    environments: Type.Array(DesiredEnvironmentSchema),
  },
  { additionalProperties: false },
);

export const EnvironmentMessage = Type.Object(
  { type: Type.Literal('environment'), environment: DesiredEnvironmentSchema },
  { additionalProperties: false },
);

export const AuditAckMessage = Type.Object(
  { type: Type.Literal('audit-ack'), upToLocalSeq: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const ErrorMessage = Type.Object(
  { type: Type.Literal('error'), code: Type.String(), message: Type.String() },
  { additionalProperties: false },
);

export const ServerMessage = Type.Union([
  ChallengeMessage,
  WelcomeMessage,
  EnvironmentMessage,
  AuditAckMessage,
  ErrorMessage,
]);

export type ServerMessage = Static<typeof ServerMessage>;

// Runner to control plane.

export const HelloMessage = Type.Object(
  {
    type: Type.Literal('hello'),
    protocolVersion: Type.Integer(),
    runnerId: Id,
    signature: Type.String({ maxLength: 200 }),
    nonce: Type.String({ minLength: 32, maxLength: 100, description: 'fresh, for the welcome' }),
    gatewayUrl: Type.String({ maxLength: 1024 }),
    classes: Type.Array(RunnerClassSchema, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

export const StatusMessage = Type.Object(
  { type: Type.Literal('status'), environmentId: Id, status: EnvironmentStatusSchema },
  { additionalProperties: false },
);

export const AuditMessage = Type.Object(
  {
    type: Type.Literal('audit'),
    records: Type.Array(RunnerAuditRecordSchema, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
);

export const HeartbeatMessage = Type.Object(
  { type: Type.Literal('heartbeat') },
  { additionalProperties: false },
);

export const RunnerMessage = Type.Union([
  HelloMessage,
  StatusMessage,
  AuditMessage,
  HeartbeatMessage,
]);

export type RunnerMessage = Static<typeof RunnerMessage>;

/** The close code of an older runner connection replaced by a newer one with the same identity. */
export const runnerReplacedCloseCode = 4004;
