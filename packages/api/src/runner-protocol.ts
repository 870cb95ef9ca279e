import { Type, type Static } from 'typebox';
import { ActorSchema, Id, Timestamp } from './schemas/common.js';
import {
  EnvironmentName,
  EnvironmentSpecSchema,
  EnvironmentStatusSchema,
} from './schemas/environments.js';
import { RunnerClassSchema, RunnerSshSchema } from './schemas/runners.js';
import { AuditDetails, AuditOutcome, AuditTargetSchema } from './schemas/audit.js';
import { PortNumber, PortShareLevelSchema } from './schemas/ports.js';
import { DesiredSecretSchema } from './schemas/secrets.js';
import { EgressRuleSchema } from './schemas/egress.js';
import { AgentTaskReportSchema, DesiredAgentTaskSchema } from './schemas/agents.js';

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
    ports: Type.Array(
      Type.Object(
        { port: PortNumber, level: PortShareLevelSchema },
        { additionalProperties: false },
      ),
      {
        maxItems: 1000,
        description:
          'shared ports at their effective level (after the organization policy); a port not ' +
          'listed is private. A change comes with the same generation: nothing restarts.',
      },
    ),
    /**
     * The environment's egress rule for its class; absent: none. While an agent task runs in
     * the environment, the task's rule (DesiredAgentTask.egress) applies instead.
     */
    egress: Type.Optional(EgressRuleSchema),
    secrets: Type.Optional(
      Type.Array(DesiredSecretSchema, {
        maxItems: 500,
        description:
          'the sealed secrets the environment receives (org, its project, its owner), each ' +
          'sealed to this runner; a change comes with the same generation and applies at the ' +
          'next start of the environment',
      }),
    ),
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
    /** Every agent task of this runner that has not ended. */
    agentTasks: Type.Optional(Type.Array(DesiredAgentTaskSchema)),
    /**
     * The origin people's browsers load the dashboard from, when it is not the address the
     * runner dials: the gateway lets pages of that origin call it (CORS).
     */
    dashboardOrigin: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+$', maxLength: 300 })),
  },
  { additionalProperties: false },
);

export const AgentTaskMessage = Type.Object(
  { type: Type.Literal('agent-task'), task: DesiredAgentTaskSchema },
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

/** Correlates a runner's request with the control plane's answer; the runner picks it. */
const RequestId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' });

/** The answer to `agent-grant`: a data-plane grant for the task's agent identity, or why not. */
export const AgentGrantMessage = Type.Union([
  Type.Object(
    {
      type: Type.Literal('agent-grant'),
      requestId: RequestId,
      ok: Type.Literal(true),
      token: Type.String({ maxLength: 8192 }),
      expiresAt: Timestamp,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('agent-grant'),
      requestId: RequestId,
      ok: Type.Literal(false),
      code: Type.String({ maxLength: 100 }),
      message: Type.String({ maxLength: 2000 }),
    },
    { additionalProperties: false },
  ),
]);

export const SshAuthorizationMessage = Type.Union([
  Type.Object(
    {
      type: Type.Literal('ssh-authorization'),
      requestId: RequestId,
      ok: Type.Literal(true),
      token: Type.String({ description: "a grant with ops ['ssh'] for this runner" }),
      environmentId: Id,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('ssh-authorization'),
      requestId: RequestId,
      ok: Type.Literal(false),
      code: Type.String({ maxLength: 100 }),
      message: Type.String({ maxLength: 1000 }),
    },
    { additionalProperties: false },
  ),
]);

/** Ends live sessions: of one environment, of one actor, or of one actor in one environment. */
export const RevokeMessage = Type.Object(
  {
    type: Type.Literal('revoke'),
    environmentId: Type.Optional(Id),
    actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    reason: Type.String({ maxLength: 500 }),
  },
  { additionalProperties: false },
);

export type RevokeMessage = Static<typeof RevokeMessage>;

/** Asks the runner to make a new key pair and prove it with a `rotate-key` message. */
export const RotateKeyRequestMessage = Type.Object(
  { type: Type.Literal('rotate-key-request') },
  { additionalProperties: false },
);

/** The control plane stored the new key: from now on only it is accepted. */
export const KeyRotatedMessage = Type.Object(
  { type: Type.Literal('key-rotated'), publicKeyFingerprint: Type.String({ maxLength: 100 }) },
  { additionalProperties: false },
);

export const ServerMessage = Type.Union([
  ChallengeMessage,
  WelcomeMessage,
  EnvironmentMessage,
  AuditAckMessage,
  ErrorMessage,
  SshAuthorizationMessage,
  RevokeMessage,
  RotateKeyRequestMessage,
  KeyRotatedMessage,
  AgentTaskMessage,
  AgentGrantMessage,
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
    ssh: Type.Optional(RunnerSshSchema),
    encryptionKey: Type.Optional(
      Type.String({
        minLength: 43,
        maxLength: 43,
        description: 'the X25519 public key secrets are sealed to, raw 32 bytes, base64url',
      }),
    ),
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

/**
 * An SSH client offers a public key to the runner's gateway; the control plane decides. The
 * user name is an environment id, or the name of one of the key owner's environments.
 */
export const SshAuthorizeMessage = Type.Object(
  {
    type: Type.Literal('ssh-authorize'),
    requestId: RequestId,
    username: Type.String({ minLength: 1, maxLength: 100 }),
    keyType: Type.String({ minLength: 1, maxLength: 100 }),
    publicKey: Type.String({ minLength: 1, maxLength: 16384, description: 'the key blob, base64' }),
    sourceAddress: Type.String({ maxLength: 100 }),
  },
  { additionalProperties: false },
);

export type SshAuthorizeMessage = Static<typeof SshAuthorizeMessage>;

/** The last activity time of environments that saw some since the previous report. */
export const ActivityMessage = Type.Object(
  {
    type: Type.Literal('activity'),
    environments: Type.Array(
      Type.Object({ environmentId: Id, lastActiveAt: Timestamp }, { additionalProperties: false }),
      { minItems: 1, maxItems: 500 },
    ),
  },
  { additionalProperties: false },
);

/** The runner's new key, proved by a signature of that key over `runnerRotateKeyMessage`. */
export const RotateKeyMessage = Type.Object(
  {
    type: Type.Literal('rotate-key'),
    publicKey: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'the new Ed25519 public key, raw 32 bytes, base64url',
    }),
    proof: Type.String({ minLength: 1, maxLength: 200, description: 'base64url signature' }),
  },
  { additionalProperties: false },
);

/** A task's state and counts changed. */
export const AgentStatusMessage = Type.Object(
  { type: Type.Literal('agent-status'), report: AgentTaskReportSchema },
  { additionalProperties: false },
);

/**
 * The agent loop asks for a data-plane grant for a running task: the control plane checks that
 * the task runs and its owner may still open the environment, and signs a grant whose actor is
 * the agent on behalf of the owner, with the operations the task's tools need.
 */
export const AgentGrantRequestMessage = Type.Object(
  { type: Type.Literal('agent-grant-request'), requestId: RequestId, taskId: Id },
  { additionalProperties: false },
);

export const RunnerMessage = Type.Union([
  HelloMessage,
  StatusMessage,
  AuditMessage,
  HeartbeatMessage,
  SshAuthorizeMessage,
  ActivityMessage,
  RotateKeyMessage,
  AgentStatusMessage,
  AgentGrantRequestMessage,
]);

export type RunnerMessage = Static<typeof RunnerMessage>;

/** The close code of an older runner connection replaced by a newer one with the same identity. */
export const runnerReplacedCloseCode = 4004;
/** The close code of a connection of a disabled runner: now, and on every hello until enabled. */
export const runnerDisabledCloseCode = 4006;

/**
 * The exact bytes a runner signs with its NEW key in `rotate-key`. Bound to this runner and to the
 * server nonce of the connection the old key authenticated, so a proof cannot be replayed on
 * another connection or for another runner.
 */
export function runnerRotateKeyMessage(options: { runnerId: string; serverNonce: string }): string {
  return `hangar-runner-rotate-key-v1\n${options.runnerId}\n${options.serverNonce}`;
}
