import { Type, type Static } from 'typebox';
import { ActorSchema, Timestamp } from './common.js';

export const AuditOutcome = Type.Union([
  Type.Literal('success'),
  Type.Literal('failure'),
  Type.Literal('denied'),
]);

export const AuditTargetSchema = Type.Object(
  { kind: Type.String({ maxLength: 50 }), id: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);

/** Small scalar facts about an action: digests, exit codes, durations. Never values or content. */
export const AuditDetails = Type.Record(
  Type.String({ maxLength: 64 }),
  Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]),
);

export const AuditRecordSchema = Type.Object(
  {
    orgId: Type.String(),
    seq: Type.Integer({ minimum: 1 }),
    time: Timestamp,
    actor: ActorSchema,
    action: Type.String({ maxLength: 100 }),
    target: Type.Union([AuditTargetSchema, Type.Null()]),
    outcome: AuditOutcome,
    requestId: Type.String({ maxLength: 100 }),
    sourceAddress: Type.String({ maxLength: 100 }),
    details: AuditDetails,
    prevHash: Type.String(),
    hash: Type.String(),
  },
  { additionalProperties: false },
);

export type AuditRecord = Static<typeof AuditRecordSchema>;

export const AuditCheckpointSchema = Type.Object(
  {
    orgId: Type.String(),
    seq: Type.Integer({ minimum: 1 }),
    hash: Type.String(),
    time: Timestamp,
    signature: Type.String({ description: 'Ed25519 over the canonical checkpoint, base64url' }),
  },
  { additionalProperties: false },
);

export type AuditCheckpoint = Static<typeof AuditCheckpointSchema>;

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 200 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    target: Type.Optional(Type.String({ maxLength: 200 })),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cursor: Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: false },
);

export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object(
  {
    records: Type.Array(AuditRecordSchema),
    nextCursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const AuditExport = Type.Object(
  {
    orgId: Type.String(),
    publicKey: Type.String({ description: 'control plane Ed25519 public key, base64url' }),
    records: Type.Array(AuditRecordSchema),
    checkpoints: Type.Array(AuditCheckpointSchema),
  },
  { additionalProperties: false },
);

export type AuditExport = Static<typeof AuditExport>;
