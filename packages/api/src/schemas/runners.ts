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

/** What a runner publishes about its SSH gateway, checked by the control plane. */
export const RunnerSshSchema = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      maxLength: 300,
      description: 'host:port SSH clients dial; an IPv6 host in brackets',
    }),
    hostKeys: Type.Array(Type.String({ minLength: 1, maxLength: 16384 }), {
      minItems: 1,
      maxItems: 10,
      description: 'the gateway host keys, OpenSSH public key lines',
    }),
  },
  { additionalProperties: false },
);

export type RunnerSsh = Static<typeof RunnerSshSchema>;

export const RunnerSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    name: RunnerName,
    state: Type.Union([
      Type.Literal('pending'),
      Type.Literal('online'),
      Type.Literal('offline'),
      Type.Literal('disabled'),
    ]),
    publicKeyFingerprint: Type.Optional(
      Type.String({ description: 'SHA256: and the unpadded base64 digest of the raw Ed25519 key' }),
    ),
    encryptionKeyFingerprint: Type.Optional(
      Type.String({
        description: 'SHA256: digest of the X25519 key secrets are sealed to, once published',
      }),
    ),
    disabledAt: Type.Optional(Timestamp),
    keyRotationRequestedAt: Type.Optional(Timestamp),
    gatewayUrl: Type.Optional(Type.String()),
    ssh: Type.Optional(RunnerSshSchema),
    classes: Type.Array(RunnerClassSchema),
    lastSeenAt: Type.Optional(Timestamp),
    createdAt: Timestamp,
    environmentCount: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'environments placed on this runner and not deleted; listed for owners, admins and ' +
          'runner-admins only',
      }),
    ),
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
