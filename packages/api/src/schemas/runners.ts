import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

export const RunnerName = Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' });

export const RunnerClassSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
    cpu: Type.Number({ exclusiveMinimum: 0, maximum: 1024, description: 'CPU cores' }),
    memoryMiB: Type.Integer({ minimum: 16, maximum: 4194304 }),
    pids: Type.Integer({ minimum: 16, maximum: 4194304 }),
  },
  { additionalProperties: false },
);

export type RunnerClass = Static<typeof RunnerClassSchema>;

export const RunnerSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    name: RunnerName,
    state: Type.Union([Type.Literal('pending'), Type.Literal('online'), Type.Literal('offline')]),
    publicKeyFingerprint: Type.Optional(Type.String()),
    gatewayUrl: Type.Optional(Type.String()),
    classes: Type.Array(RunnerClassSchema),
    lastSeenAt: Type.Optional(Timestamp),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

export type Runner = Static<typeof RunnerSchema>;

export const CreateRunnerBody = Type.Object({ name: RunnerName }, { additionalProperties: false });

export const CreateRunnerResponse = Type.Object(
  {
    runner: RunnerSchema,
    enrollmentToken: Type.String({ description: 'shown once; single use; expires in one hour' }),
    enrollmentExpiresAt: Timestamp,
  },
  { additionalProperties: false },
);

export const EnrollBody = Type.Object(
  {
    enrollmentToken: Type.String({ minLength: 1, maxLength: 200 }),
    publicKey: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'the runner Ed25519 public key, raw 32 bytes, base64url',
    }),
  },
  { additionalProperties: false },
);

export const EnrollResponse = Type.Object(
  { runnerId: Id, orgId: Id, controlPlanePublicKey: Type.String() },
  { additionalProperties: false },
);
