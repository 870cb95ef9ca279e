import { Type, type Static } from 'typebox';

/**
 * A host pattern of the egress allow-list: an exact name (`registry.example.internal`), a
 * wildcard for any subdomain (`*.example.internal`, which does not match `example.internal`
 * itself), or an IP address. Matched case-insensitively against the name the client asked for.
 */
export const EgressHostPattern = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?$',
});

export const EgressAllowSchema = Type.Object(
  {
    host: EgressHostPattern,
    /** Ports allowed on that host; absent: 443 and 80. */
    ports: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1, maxItems: 50 }),
    ),
  },
  { additionalProperties: false },
);

export type EgressAllow = Static<typeof EgressAllowSchema>;

/**
 * What an environment may reach through the runner's egress proxy. `none`: nothing; `allowlist`:
 * only `allow`; `open`: any public address. Private, loopback, link-local and metadata addresses
 * are refused in every mode unless a CIDR in `allowPrivate` covers the resolved address.
 */
export const EgressRuleSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('none'), Type.Literal('allowlist'), Type.Literal('open')]),
    allow: Type.Optional(Type.Array(EgressAllowSchema, { maxItems: 200 })),
    allowPrivate: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 50, description: 'a CIDR block' }), {
        maxItems: 50,
      }),
    ),
  },
  { additionalProperties: false },
);

export type EgressRule = Static<typeof EgressRuleSchema>;

/**
 * The organization's egress policy: a rule per environment class, a default for other classes,
 * and the rule for environments while an agent task runs in them. Absent: `none` everywhere.
 */
export const EgressPolicySchema = Type.Object(
  {
    default: Type.Optional(EgressRuleSchema),
    classes: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }), EgressRuleSchema),
    ),
    agents: Type.Optional(EgressRuleSchema),
  },
  { additionalProperties: false },
);

export type EgressPolicy = Static<typeof EgressPolicySchema>;
