import { Type, type Static } from 'typebox';
import { phases, desiredPhases } from '../phases.js';
import { Id, Timestamp } from './common.js';
import { ProjectName } from './secrets.js';

export const PhaseSchema = Type.Enum([...phases]);
export const DesiredPhaseSchema = Type.Enum([...desiredPhases]);

export const EnvironmentName = Type.String({
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'lower-case letters, digits and dashes, 1-63 characters, unique in the organization',
});

export const ClassName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });

export const RepositorySchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'any URL git accepts: https, ssh, git, file:// or a path on the runner',
    }),
    ref: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'a branch (slashes allowed), a tag or a commit; the default branch if absent',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EnvironmentSpecSchema = Type.Object(
  {
    repository: Type.Optional(RepositorySchema),
    devcontainerPath: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'relative to the repository root',
      }),
    ),
    class: ClassName,
    desiredPhase: DesiredPhaseSchema,
    project: Type.Optional(ProjectName),
  },
  { additionalProperties: false },
);

export type EnvironmentSpec = Static<typeof EnvironmentSpecSchema>;

export const ConditionSchema = Type.Object(
  {
    type: Type.String({ maxLength: 100 }),
    status: Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('unknown')]),
    reason: Type.String({ maxLength: 100 }),
    message: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

export type Condition = Static<typeof ConditionSchema>;

export const StepSchema = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    state: Type.Union([
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
      Type.Literal('skipped'),
    ]),
    startedAt: Timestamp,
    finishedAt: Type.Optional(Timestamp),
    exitCode: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export type Step = Static<typeof StepSchema>;

export const FailureSchema = Type.Object(
  {
    reason: Type.String({ maxLength: 100, description: 'stable, machine-readable' }),
    message: Type.String({ maxLength: 4000 }),
    step: Type.Optional(Type.String({ maxLength: 200 })),
    exitCode: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

export const EnvironmentStatusSchema = Type.Object(
  {
    phase: PhaseSchema,
    observedGeneration: Type.Integer({ minimum: 0 }),
    conditions: Type.Array(ConditionSchema, { maxItems: 50 }),
    steps: Type.Array(StepSchema, { maxItems: 100 }),
    failure: Type.Optional(FailureSchema),
    workspaceFolder: Type.Optional(Type.String({ maxLength: 1024 })),
    gatewayUrl: Type.Optional(Type.String({ maxLength: 1024 })),
    phaseChangedAt: Timestamp,
  },
  { additionalProperties: false },
);

export type EnvironmentStatus = Static<typeof EnvironmentStatusSchema>;

export const EnvironmentSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    ownerId: Id,
    runnerId: Id,
    name: EnvironmentName,
    generation: Type.Integer({ description: 'increases on every spec change' }),
    statusVersion: Type.Integer({ description: 'increases on every status change' }),
    spec: EnvironmentSpecSchema,
    status: EnvironmentStatusSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    lastActiveAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'the last SSH, terminal, exec, port or file activity its runner reported',
      }),
    ),
  },
  { additionalProperties: false },
);

export type Environment = Static<typeof EnvironmentSchema>;

export const CreateEnvironmentBody = Type.Object(
  {
    name: Type.Optional(EnvironmentName),
    repository: Type.Optional(RepositorySchema),
    devcontainerPath: Type.Optional(EnvironmentSpecSchema.properties.devcontainerPath),
    class: Type.Optional(ClassName),
    runnerId: Type.Optional(Id),
    /**
     * A project of the organization policy: its runners apply, and `repository` is required and
     * must match one of its repository patterns (the environment receives the project's secrets).
     */
    project: Type.Optional(ProjectName),
  },
  { additionalProperties: false },
);

export type CreateEnvironmentBody = Static<typeof CreateEnvironmentBody>;

export const AccessOperation = Type.Union([
  Type.Literal('exec'),
  Type.Literal('files:read'),
  Type.Literal('files:write'),
  Type.Literal('logs'),
  Type.Literal('terminal'),
  Type.Literal('ssh'),
  Type.Literal('ports:read'),
  Type.Literal('ports:connect'),
  Type.Literal('agent'),
]);

export type AccessOperation = Static<typeof AccessOperation>;

export const CreateAccessTokenBody = Type.Object(
  {
    operations: Type.Array(AccessOperation, { minItems: 1, maxItems: 8, uniqueItems: true }),
    /**
     * Break-glass: an owner or admin opening an environment that is not theirs, allowed only
     * when the organization policy enables it. The reason goes into the audit record.
     */
    breakGlassReason: Type.Optional(Type.String({ minLength: 10, maxLength: 1000 })),
  },
  { additionalProperties: false },
);

/** How an SSH client reaches the environment through its runner, with the keys to pin. */
export const SshEndpointSchema = Type.Object(
  {
    address: Type.String({ description: 'host:port of the runner SSH gateway' }),
    hostKeys: Type.Array(Type.String(), {
      description: 'the gateway host keys as OpenSSH public key lines, for known_hosts',
    }),
    username: Type.String({ description: 'the SSH user name that opens this environment' }),
  },
  { additionalProperties: false },
);

export const AccessTokenResponse = Type.Object(
  {
    token: Type.String(),
    expiresAt: Timestamp,
    gatewayUrl: Type.String(),
    runnerId: Id,
    environmentId: Id,
    ssh: Type.Optional(SshEndpointSchema),
  },
  { additionalProperties: false },
);
