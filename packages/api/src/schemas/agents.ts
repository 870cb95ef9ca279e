import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';
import { EgressRuleSchema } from './egress.js';
import { EnvironmentName, RepositorySchema, ClassName } from './environments.js';
import { SecretName } from './secrets.js';

export const agentTools = [
  'run_command',
  'read_file',
  'write_file',
  'replace_in_file',
  'list_directory',
  'search_files',
  'finish',
] as const;

export type AgentTool = (typeof agentTools)[number];

export const AgentToolSchema = Type.Enum([...agentTools]);

export const agentTaskStates = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'limit_reached',
] as const;

export type AgentTaskState = (typeof agentTaskStates)[number];

export const finalAgentTaskStates: readonly AgentTaskState[] = [
  'succeeded',
  'failed',
  'cancelled',
  'limit_reached',
];

/** The limit that ended a task in `limit_reached`. */
export const agentLimitNames = ['maxSteps', 'maxTokens', 'maxWallTimeS'] as const;

export const AgentLimitsSchema = Type.Object(
  {
    maxSteps: Type.Integer({ minimum: 1, maximum: 10000, default: 50 }),
    maxTokens: Type.Integer({ minimum: 100, maximum: 100000000, default: 500000 }),
    maxWallTimeS: Type.Integer({ minimum: 10, maximum: 604800, default: 3600 }),
    commandTimeoutS: Type.Integer({ minimum: 1, maximum: 86400, default: 600 }),
  },
  { additionalProperties: false },
);

export type AgentLimits = Static<typeof AgentLimitsSchema>;

/**
 * Where the model is: an OpenAI-compatible Chat Completions server or the Anthropic Messages
 * API. The key is a sealed secret with delivery `model` (never delivered into environments),
 * named by `keySecret`; absent for a server that needs no key.
 */
export const ModelConfigSchema = Type.Object(
  {
    api: Type.Union([Type.Literal('openai'), Type.Literal('anthropic')]),
    baseUrl: Type.String({ minLength: 1, maxLength: 1024 }),
    model: Type.String({ minLength: 1, maxLength: 200 }),
    keySecret: Type.Optional(SecretName),
  },
  { additionalProperties: false },
);

export type ModelConfig = Static<typeof ModelConfigSchema>;

/**
 * An agent program installed in the environment (`claude`, `codex`, `aider`...): run as a
 * detached command with the prompt on stdin or as its last argument; its output is the
 * transcript.
 */
export const AgentCommandSchema = Type.Object(
  {
    argv: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
      minItems: 1,
      maxItems: 100,
    }),
    prompt: Type.Union([Type.Literal('stdin'), Type.Literal('argument')]),
    /** Environment variable the model key is given in (from `model.keySecret`). */
    keyVariable: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
  },
  { additionalProperties: false },
);

/**
 * `POST /v1/agent-tasks`. The prompt itself never reaches the control plane: the client sends
 * its SHA-256 here, then the prompt to the runner's gateway, which checks it against the digest.
 */
export const CreateAgentTaskBody = Type.Object(
  {
    environmentId: Type.Optional(Id),
    /** Instead of environmentId: a fresh environment for the task from this repository. */
    repository: Type.Optional(RepositorySchema),
    class: Type.Optional(ClassName),
    name: Type.Optional(EnvironmentName),
    promptSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** Absent: the organization's model (policy `agents.model`). */
    model: Type.Optional(ModelConfigSchema),
    tools: Type.Optional(Type.Array(AgentToolSchema, { minItems: 1, uniqueItems: true })),
    limits: Type.Optional(Type.Partial(AgentLimitsSchema, { additionalProperties: false })),
    command: Type.Optional(AgentCommandSchema),
  },
  { additionalProperties: false },
);

export type CreateAgentTaskBody = Static<typeof CreateAgentTaskBody>;

export const AgentTaskSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    ownerId: Id,
    environmentId: Id,
    runnerId: Id,
    state: Type.Enum([...agentTaskStates]),
    /** Why it ended (failed, limit_reached: the limit's name, cancelled: who). */
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    model: Type.String({ description: 'the model name' }),
    kind: Type.Union([Type.Literal('loop'), Type.Literal('command')]),
    tools: Type.Array(AgentToolSchema),
    limits: AgentLimitsSchema,
    steps: Type.Integer({ minimum: 0 }),
    inputTokens: Type.Integer({ minimum: 0 }),
    outputTokens: Type.Integer({ minimum: 0 }),
    promptSha256: Type.String(),
    summarySha256: Type.Optional(Type.String()),
    createdAt: Timestamp,
    startedAt: Type.Optional(Timestamp),
    endedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export type AgentTask = Static<typeof AgentTaskSchema>;

/** The organization's agent policy (a member of OrgRules). */
export const AgentPolicySchema = Type.Object(
  {
    allowedTools: Type.Optional(Type.Array(AgentToolSchema, { uniqueItems: true })),
    /** Regular expressions (JavaScript syntax) matched against the command line joined by spaces. */
    deniedCommandPatterns: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 }),
    ),
    /**
     * Paths agents may write, relative to the workspace folder or absolute; `**` any run, `*` any
     * run without `/`. Absent: anywhere under the workspace folder.
     */
    writablePaths: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 100 }),
    ),
    maxRunningPerUser: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
    maxRunningPerOrg: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
    model: Type.Optional(ModelConfigSchema),
  },
  { additionalProperties: false },
);

export type AgentPolicy = Static<typeof AgentPolicySchema>;

/**
 * An agent task as its runner receives it. `desired` is `run` until someone stops it. The
 * rules are already resolved: the tools the task may use (task ∩ policy), denied patterns,
 * writable paths, and the egress rule of the environment while the task runs.
 */
export const DesiredAgentTaskSchema = Type.Object(
  {
    id: Id,
    orgId: Id,
    ownerId: Id,
    environmentId: Id,
    desired: Type.Union([Type.Literal('run'), Type.Literal('stop')]),
    promptSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    kind: Type.Union([Type.Literal('loop'), Type.Literal('command')]),
    model: ModelConfigSchema,
    command: Type.Optional(AgentCommandSchema),
    tools: Type.Array(AgentToolSchema),
    limits: AgentLimitsSchema,
    deniedCommandPatterns: Type.Array(Type.String({ maxLength: 500 })),
    writablePaths: Type.Array(Type.String({ maxLength: 500 })),
    egress: EgressRuleSchema,
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

export type DesiredAgentTask = Static<typeof DesiredAgentTaskSchema>;

/** What the runner reports about a task: its state and counts, never its content. */
export const AgentTaskReportSchema = Type.Object(
  {
    taskId: Id,
    state: Type.Enum([...agentTaskStates]),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    steps: Type.Integer({ minimum: 0 }),
    inputTokens: Type.Integer({ minimum: 0 }),
    outputTokens: Type.Integer({ minimum: 0 }),
    summarySha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  },
  { additionalProperties: false },
);

export type AgentTaskReport = Static<typeof AgentTaskReportSchema>;
