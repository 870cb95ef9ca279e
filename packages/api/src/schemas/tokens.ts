import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

/** What an API token may be used for. A scope only ever narrows what its user may do. */
export const scopes = [
  'environments:read',
  'environments:write',
  'environments:exec',
  'audit:read',
  'runners:admin',
  'secrets:read',
  'secrets:write',
  'org:admin',
] as const;

export type Scope = (typeof scopes)[number];

export const ScopeSchema = Type.Enum([...scopes]);

export const ApiTokenSchema = Type.Object(
  {
    id: Id,
    userId: Id,
    orgId: Id,
    scopes: Type.Array(ScopeSchema),
    expiresAt: Timestamp,
    createdAt: Timestamp,
    /** 'session' for a token from `hangar login`, 'token' for a personal access token. */
    kind: Type.Optional(Type.Enum(['token', 'session'])),
    /** Set once the token is revoked; a revoked token is refused on every request after. */
    revokedAt: Type.Optional(Timestamp),
    /** The last request the token authenticated, to within a minute. */
    lastUsedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

export type ApiToken = Static<typeof ApiTokenSchema>;

export const CreateTokenBody = Type.Object(
  {
    scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
    expiresInS: Type.Integer({ minimum: 60, maximum: 31536000 }),
  },
  { additionalProperties: false },
);

export const CreateTokenResponse = Type.Object(
  { token: Type.String({ description: 'shown once' }), apiToken: ApiTokenSchema },
  { additionalProperties: false },
);

export const TokenList = Type.Object(
  { tokens: Type.Array(ApiTokenSchema) },
  { additionalProperties: false },
);

export const ListTokensQuery = Type.Object(
  { userId: Type.Optional(Id) },
  { additionalProperties: false },
);

export const WhoAmIResponse = Type.Object(
  {
    userId: Id,
    orgId: Id,
    orgName: Type.String({ description: 'what `hangar login --org` and token exchange take' }),
    role: Type.String(),
    scopes: Type.Array(ScopeSchema),
    tokenId: Id,
  },
  { additionalProperties: false },
);

export type WhoAmIResponse = Static<typeof WhoAmIResponse>;
