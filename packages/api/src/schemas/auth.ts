import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';
import { MemberRoleSchema } from './members.js';

/** The roles a user may get at first sign-in; owners and admins are only ever made by hand. */
export const signInRoles = ['member', 'auditor'] as const;

export type SignInRole = (typeof signInRoles)[number];

const OrgName = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'the organization name; may be left out when only one organization has a provider',
  }),
);

const IssuerUrl = Type.String({
  minLength: 8,
  maxLength: 500,
  description:
    'the OpenID provider, exactly as its discovery document names it: https://..., or ' +
    'http:// on 127.0.0.1, ::1 or localhost only',
});

/** A lower-case e-mail domain of two labels or more, for clients that check before sending. */
export const emailDomainPattern =
  '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$';

/** An ID token claim name, for clients that check before sending. */
export const claimNamePattern = '^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$';

const EmailDomain = Type.String({
  pattern: emailDomainPattern,
  maxLength: 253,
  description: 'a lower-case e-mail domain such as example.com',
});

export const RequiredClaimSchema = Type.Object(
  {
    name: Type.String({
      pattern: claimNamePattern,
      description: 'an ID token claim name such as groups or hd',
    }),
    value: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'the value the claim must hold (or contain, for a list claim)',
    }),
  },
  { additionalProperties: false },
);

export type RequiredClaim = Static<typeof RequiredClaimSchema>;

export const PutOidcConfigBody = Type.Object(
  {
    issuer: IssuerUrl,
    clientId: Type.String({ minLength: 1, maxLength: 500 }),
    clientSecret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        description: 'write-only: never returned; leave it out to keep the stored one',
      }),
    ),
    allowedDomains: Type.Optional(
      Type.Array(EmailDomain, {
        maxItems: 100,
        uniqueItems: true,
        description: 'e-mail domains allowed to sign in (verified e-mail); empty: any',
      }),
    ),
    requiredClaim: Type.Optional(
      Type.Union([RequiredClaimSchema, Type.Null()], {
        description: 'a claim every ID token must hold; null removes it; left out: kept',
      }),
    ),
    storeProfile: Type.Optional(
      Type.Boolean({ description: 'keep name and e-mail of users; off by default' }),
    ),
    defaultRole: Type.Optional(Type.Enum([...signInRoles])),
    tokenExchange: Type.Optional(
      Type.Boolean({
        description:
          'whether automation may trade an ID token from the provider for a session ' +
          '(POST /v1/auth/token-exchange); off by default',
      }),
    ),
  },
  { additionalProperties: false },
);

export type PutOidcConfigBody = Static<typeof PutOidcConfigBody>;

export const OidcConfigSchema = Type.Object(
  {
    issuer: Type.String(),
    clientId: Type.String(),
    clientSecretSet: Type.Boolean({ description: 'whether a client secret is stored' }),
    allowedDomains: Type.Array(Type.String()),
    requiredClaim: Type.Optional(RequiredClaimSchema),
    storeProfile: Type.Boolean(),
    defaultRole: Type.Enum([...signInRoles]),
    tokenExchange: Type.Boolean({ description: 'whether token exchange is on' }),
    redirectUri: Type.String({
      description:
        "the sign-in redirect URI to register at the provider: the control plane's " +
        'public URL + /v1/auth/callback',
    }),
    updatedBy: Type.String(),
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);

export type OidcConfig = Static<typeof OidcConfigSchema>;

const CodeChallenge = Type.String({
  pattern: '^[A-Za-z0-9_-]{43}$',
  description: 'BASE64URL(SHA-256(code verifier)), the S256 PKCE challenge of the CLI',
});

const CodeVerifier = Type.String({
  pattern: '^[A-Za-z0-9._~-]{43,128}$',
  description: 'the PKCE code verifier whose challenge started the sign-in',
});

export const StartLoginBody = Type.Object(
  {
    org: OrgName,
    redirectUri: Type.String({
      minLength: 1,
      maxLength: 500,
      description:
        'where the browser returns: http://127.0.0.1:<port>/<path> (the CLI), or the ' +
        "control plane's own /sign-in/callback (the dashboard)",
    }),
    codeChallenge: CodeChallenge,
  },
  { additionalProperties: false },
);

export const StartLoginResponse = Type.Object(
  {
    loginId: Id,
    authorizationUrl: Type.String({ description: 'open it in a browser' }),
    expiresAt: Timestamp,
  },
  { additionalProperties: false },
);

export const CompleteLoginBody = Type.Object(
  {
    loginId: Id,
    code: Type.String({
      pattern: '^[A-Za-z0-9_-]{20,100}$',
      description: 'the one-time code the browser brought back',
    }),
    codeVerifier: CodeVerifier,
  },
  { additionalProperties: false },
);

export const SessionTokenResponse = Type.Object(
  {
    token: Type.String({ description: 'the session token, shown once' }),
    tokenId: Id,
    expiresAt: Timestamp,
    userId: Id,
    orgId: Id,
  },
  { additionalProperties: false },
);

export type SessionTokenResponse = Static<typeof SessionTokenResponse>;

export const StartDeviceBody = Type.Object({ org: OrgName }, { additionalProperties: false });

export const StartDeviceResponse = Type.Object(
  {
    loginId: Id,
    pollSecret: Type.String({ description: 'send it with every poll; shown once' }),
    userCode: Type.String(),
    verificationUri: Type.String(),
    verificationUriComplete: Type.Optional(Type.String()),
    intervalS: Type.Integer({ minimum: 1 }),
    expiresInS: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

export type StartDeviceResponse = Static<typeof StartDeviceResponse>;

export const PollDeviceBody = Type.Object(
  { loginId: Id, pollSecret: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$' }) },
  { additionalProperties: false },
);

export const DevicePendingResponse = Type.Object(
  {
    status: Type.Enum(['pending', 'slow_down']),
    intervalS: Type.Integer({ minimum: 1, description: 'wait this long before the next poll' }),
  },
  { additionalProperties: false },
);

export type DevicePendingResponse = Static<typeof DevicePendingResponse>;

export const TokenExchangeBody = Type.Object(
  {
    org: OrgName,
    idToken: Type.String({
      minLength: 10,
      maxLength: 16384,
      description: "an ID token from the organization's OpenID provider, for this client",
    }),
  },
  { additionalProperties: false },
);

export const LogoutResponse = Type.Object(
  { tokenId: Id, revokedAt: Timestamp },
  { additionalProperties: false },
);

/**
 * The dashboard's sign-in: an API token pasted into the page (the embedded setup), or the end
 * of a browser sign-in the page itself started. Either way the answer is an HttpOnly cookie
 * holding a new session token, never the token itself.
 */
export const WebSessionBody = Type.Union([
  Type.Object(
    { token: Type.String({ minLength: 1, maxLength: 200, description: 'an API token' }) },
    { additionalProperties: false },
  ),
  CompleteLoginBody,
]);

export const WebSessionResponse = Type.Object(
  {
    csrfToken: Type.String({
      description: 'send it as X-CSRF-Token with every request that changes something',
    }),
    userId: Id,
    orgId: Id,
    role: MemberRoleSchema,
    scopes: Type.Array(Type.String()),
    expiresAt: Timestamp,
  },
  { additionalProperties: false },
);

export type WebSessionResponse = Static<typeof WebSessionResponse>;
