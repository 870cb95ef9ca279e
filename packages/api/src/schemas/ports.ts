import { Type, type Static, type TSchema } from 'typebox';
import { AgentPolicySchema } from './agents.js';
import { Id, Timestamp } from './common.js';
import { EgressPolicySchema } from './egress.js';
import {
  AllowedClasses,
  AllowedRepositoryPatterns,
  BreakGlass,
  IdleStopAfterMin,
  MaxLifetimeMin,
  MaxRunningPerOrg,
  MaxRunningPerUser,
  OrgRulesSchema,
  ProjectRules,
} from './policy.js';

/** Who may reach a port inside an environment through the runner's HTTP proxy. */
export const portShareLevels = ['private', 'org', 'public'] as const;

export type PortShareLevel = (typeof portShareLevels)[number];

export const PortShareLevelSchema = Type.Union(
  [Type.Literal('private'), Type.Literal('org'), Type.Literal('public')],
  {
    description:
      'private: only the environment owner; org: members of the organization; ' +
      'public: anyone with the link (only while the organization policy allows it)',
  },
);

export const PortNumber = Type.Integer({ minimum: 1, maximum: 65535 });

/**
 * The port inside every environment where the runner's egress proxy listens (on loopback). It
 * belongs to the runner, not to the environment's owner: it is never listed, shared or proxied,
 * since a shared one would lend the owner's network access to whoever the share admits.
 */
export const egressProxyPort = 3128;

/** Why a port may not be shared or opened through the proxy; undefined when it may. */
export function reservedPortProblem(port: number): string | undefined {
  return port === egressProxyPort
    ? `port ${port} inside an environment is its egress proxy, which is never shared; ` +
        'run your service on another port'
    : undefined;
}

export const PortParams = Type.Object(
  { id: Id, port: PortNumber },
  { additionalProperties: false },
);

export const SetPortShareBody = Type.Object(
  { level: PortShareLevelSchema },
  { additionalProperties: false },
);

export const PortShareSchema = Type.Object(
  {
    environmentId: Id,
    port: PortNumber,
    level: PortShareLevelSchema,
    effectiveLevel: Type.Union(
      [Type.Literal('private'), Type.Literal('org'), Type.Literal('public')],
      { description: 'the level after the organization policy; what the runner enforces' },
    ),
    updatedBy: Id,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);

export type PortShare = Static<typeof PortShareSchema>;

export const PortAccessResponse = Type.Object(
  {
    token: Type.String({ description: 'a grant for this one port; send it as ?hangar_grant=' }),
    expiresAt: Timestamp,
    url: Type.String({ description: '<runner gateway>/ports/<environment id>/<port>/' }),
    level: PortShareLevelSchema,
  },
  { additionalProperties: false },
);

export const OrgPolicySchema = Type.Object(
  {
    maxPortShareLevel: PortShareLevelSchema,
    ...OrgRulesSchema.properties,
    updatedBy: Type.Optional(Id),
    updatedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export type OrgPolicy = Static<typeof OrgPolicySchema>;

/** A member that may also be `null`, which clears the rule. */
function clearable<T extends TSchema>(schema: T) {
  return Type.Optional(Type.Union([schema, Type.Null()]));
}

/**
 * `PATCH /v1/org/policy`: the members to change, each optional. `null` clears a rule: no
 * restriction again (`maxPortShareLevel` back to the default, `breakGlass` back to off).
 */
export const UpdateOrgPolicyBody = Type.Object(
  {
    maxPortShareLevel: clearable(PortShareLevelSchema),
    allowedRepositoryPatterns: clearable(AllowedRepositoryPatterns),
    allowedClasses: clearable(AllowedClasses),
    maxRunningPerUser: clearable(MaxRunningPerUser),
    maxRunningPerOrg: clearable(MaxRunningPerOrg),
    idleStopAfterMin: clearable(IdleStopAfterMin),
    maxLifetimeMin: clearable(MaxLifetimeMin),
    breakGlass: clearable(BreakGlass),
    projects: clearable(ProjectRules),
    egress: clearable(EgressPolicySchema),
    agents: clearable(AgentPolicySchema),
  },
  { additionalProperties: false },
);

export type UpdateOrgPolicyBody = Static<typeof UpdateOrgPolicyBody>;

/** The lower of two levels: a share is never wider than the policy allows. */
export function narrowerLevel(a: PortShareLevel, b: PortShareLevel): PortShareLevel {
  return portShareLevels.indexOf(a) <= portShareLevels.indexOf(b) ? a : b;
}
