import { Type, type Static } from 'typebox';
import { ClassName } from './environments.js';
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

/**
 * The organization policies beyond port sharing. An absent member means "no restriction" except
 * `breakGlass`, which is off unless set.
 */
export const OrgRulesSchema = Type.Object(
  {
    /** Empty or absent: any repository. */
    allowedRepositoryPatterns: Type.Optional(Type.Array(RepositoryPattern, { maxItems: 100 })),
    /** Empty or absent: any class the runner offers. */
    allowedClasses: Type.Optional(Type.Array(ClassName, { maxItems: 50 })),
    maxRunningPerUser: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
    maxRunningPerOrg: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000000 })),
    idleStopAfterMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 525600 })),
    maxLifetimeMin: Type.Optional(Type.Integer({ minimum: 1, maximum: 525600 })),
    breakGlass: Type.Optional(Type.Boolean()),
    projects: Type.Optional(Type.Array(ProjectRuleSchema, { maxItems: 200 })),
  },
  { additionalProperties: false },
);

export type OrgRules = Static<typeof OrgRulesSchema>;
