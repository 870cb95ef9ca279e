import { Type, type Static } from 'typebox';
import { ClassName } from './environments.js';
import { AgentPolicySchema } from './agents.js';
import { EgressPolicySchema } from './egress.js';
import { ProjectName } from './secrets.js';

/**
 * A repository URL pattern: `*` matches any run of characters other than `/`, `**` any run at
 * all; everything else is literal. Matched against the whole URL as given.
 */
export const RepositoryPattern = Type.String({ minLength: 1, maxLength: 512 });

export const ProjectRuleSchema = Type.Object(
  {
    name: ProjectName,
    /** Environments of the project must clone a repository matching one of these. */
    repositoryPatterns: Type.Array(RepositoryPattern, { minItems: 1, maxItems: 50 }),
    /** Runner names the project may use; empty: any runner. */
    runners: Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { maxItems: 100 }),
  },
  { additionalProperties: false },
);

export type ProjectRule = Static<typeof ProjectRuleSchema>;

/** Empty or absent: any repository. Environments without a repository are always allowed. */
export const AllowedRepositoryPatterns = Type.Array(RepositoryPattern, { maxItems: 100 });

/** Empty or absent: any class the runner offers. */
export const AllowedClasses = Type.Array(ClassName, { maxItems: 50 });

/** Environments whose desired phase is running, counted per owner; absent: no limit. */
export const MaxRunningPerUser = Type.Integer({ minimum: 0, maximum: 100000 });

/** Environments whose desired phase is running in the organization; absent: no limit. */
export const MaxRunningPerOrg = Type.Integer({ minimum: 0, maximum: 1000000 });

/** A running environment with no activity for this long is stopped; absent: never. */
export const IdleStopAfterMin = Type.Integer({ minimum: 1, maximum: 525600 });

/** A running environment is stopped this long after it became running; absent: never. */
export const MaxLifetimeMin = Type.Integer({ minimum: 1, maximum: 525600 });

/** Whether admins may open environments they do not own, with a reason; off unless set. */
export const BreakGlass = Type.Boolean();

/** Names unique; runners must name runners of the organization. */
export const ProjectRules = Type.Array(ProjectRuleSchema, { maxItems: 200 });

/**
 * The organization policies beyond port sharing. An absent member means "no restriction" except
 * `breakGlass`, which is off unless set. Repository rules apply to environments that clone a
 * repository; an environment created without one is allowed by them.
 */
export const OrgRulesSchema = Type.Object(
  {
    allowedRepositoryPatterns: Type.Optional(AllowedRepositoryPatterns),
    allowedClasses: Type.Optional(AllowedClasses),
    maxRunningPerUser: Type.Optional(MaxRunningPerUser),
    maxRunningPerOrg: Type.Optional(MaxRunningPerOrg),
    idleStopAfterMin: Type.Optional(IdleStopAfterMin),
    maxLifetimeMin: Type.Optional(MaxLifetimeMin),
    breakGlass: Type.Optional(BreakGlass),
    projects: Type.Optional(ProjectRules),
    /** Network access of environments through the runner's egress proxy; absent: none. */
    egress: Type.Optional(EgressPolicySchema),
    agents: Type.Optional(AgentPolicySchema),
  },
  { additionalProperties: false },
);

export type OrgRules = Static<typeof OrgRulesSchema>;

/** The names of the rules, in the order they are shown. */
export const orgRuleNames = [
  'allowedRepositoryPatterns',
  'allowedClasses',
  'maxRunningPerUser',
  'maxRunningPerOrg',
  'idleStopAfterMin',
  'maxLifetimeMin',
  'breakGlass',
  'projects',
  'egress',
  'agents',
] as const satisfies readonly (keyof OrgRules)[];

export type OrgRuleName = (typeof orgRuleNames)[number];
