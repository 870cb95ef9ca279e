import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

export const secretScopes = ['org', 'project', 'user'] as const;
export type SecretScope = (typeof secretScopes)[number];

/** `model`: a model API key the runner's agent loop uses; never delivered into an environment. */
export const secretDeliveries = ['env', 'file', 'git', 'model'] as const;
export type SecretDelivery = (typeof secretDeliveries)[number];

export const SecretName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$',
  description: 'letters, digits, _ . -; starts with a letter or _; 1-128 characters',
});

export const ProjectName = Type.String({
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'lower-case letters, digits and dashes, 1-63 characters',
});

/** One ciphertext of a secret, sealed to one runner (see `sealSecret`). */
export const SecretCiphertextSchema = Type.Object(
  {
    runnerId: Id,
    envelope: Type.String({ minLength: 1, maxLength: 200000 }),
  },
  { additionalProperties: false },
);

/**
 * `PUT /v1/secrets`: creates a secret or replaces its value (the version the client sealed to
 * must be the next one: the stored version + 1, or 1 for a new secret). The body holds
 * ciphertexts only: one for every runner the secret may reach (`GET /v1/secrets/recipients`).
 */
export const SetSecretBody = Type.Object(
  {
    name: SecretName,
    scope: Type.Enum([...secretScopes]),
    /** The project name for scope `project`; absent for `org` and `user` (the caller). */
    project: Type.Optional(ProjectName),
    delivery: Type.Enum([...secretDeliveries]),
    /** Variable name for env, absolute path for file, host[:port] for git. */
    target: Type.String({ minLength: 1, maxLength: 1024 }),
    version: Type.Integer({ minimum: 1 }),
    signingKeyId: Id,
    ciphertexts: Type.Array(SecretCiphertextSchema, { minItems: 1, maxItems: 500 }),
  },
  { additionalProperties: false },
);

export const SecretSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    name: SecretName,
    scope: Type.Enum([...secretScopes]),
    scopeId: Type.String({ description: "'' for org, the project name, or the user id" }),
    delivery: Type.Enum([...secretDeliveries]),
    target: Type.String(),
    version: Type.Integer(),
    authorId: Id,
    runnerIds: Type.Array(Id),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);

export type Secret = Static<typeof SecretSchema>;

/** A runner a new secret must be sealed to: its id and X25519 public key. */
export const SecretRecipientSchema = Type.Object(
  { runnerId: Id, name: Type.String(), encryptionKey: Type.String() },
  { additionalProperties: false },
);

export const SigningKeySchema = Type.Object(
  {
    id: Id,
    userId: Id,
    publicKey: Type.String(),
    fingerprint: Type.String(),
    createdAt: Timestamp,
    revokedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

/**
 * A secret as the runner receives it with an environment's desired state: the metadata it
 * rebuilds the binding from, the author's verify key, and its own ciphertext. Never a value.
 */
export const DesiredSecretSchema = Type.Object(
  {
    id: Id,
    name: SecretName,
    scope: Type.Enum([...secretScopes]),
    scopeId: Type.String({ maxLength: 200 }),
    delivery: Type.Enum([...secretDeliveries]),
    target: Type.String({ maxLength: 1024 }),
    version: Type.Integer({ minimum: 1 }),
    authorId: Id,
    /** The author's Ed25519 public key, raw, base64url. */
    authorVerifyKey: Type.String({ maxLength: 100 }),
    envelope: Type.String({ maxLength: 200000 }),
  },
  { additionalProperties: false },
);

export type DesiredSecret = Static<typeof DesiredSecretSchema>;

export const SecretList = Type.Object(
  { secrets: Type.Array(SecretSchema) },
  { additionalProperties: false },
);

/** `GET /v1/secrets/recipients`: the scope a new secret is for. */
export const SecretRecipientsQuery = Type.Object(
  { scope: Type.Enum([...secretScopes]), project: Type.Optional(ProjectName) },
  { additionalProperties: false },
);

export const SecretRecipientList = Type.Object(
  { recipients: Type.Array(SecretRecipientSchema) },
  { additionalProperties: false },
);

export type SecretRecipient = Static<typeof SecretRecipientSchema>;

/** `POST /v1/signing-keys`: the Ed25519 key the caller signs sealed secrets with. */
export const AddSigningKeyBody = Type.Object(
  {
    publicKey: Type.String({
      minLength: 43,
      maxLength: 43,
      description: 'the Ed25519 public key, raw 32 bytes, base64url',
    }),
  },
  { additionalProperties: false },
);

export const SigningKeyList = Type.Object(
  { signingKeys: Type.Array(SigningKeySchema) },
  { additionalProperties: false },
);

export type SigningKey = Static<typeof SigningKeySchema>;

export type SetSecretBody = Static<typeof SetSecretBody>;
