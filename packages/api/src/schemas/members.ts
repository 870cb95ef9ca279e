import { Type, type Static } from 'typebox';
import { Id, Timestamp } from './common.js';

/** The organization roles; what each may do is declared route by route (`config.access`). */
export const memberRoles = ['owner', 'admin', 'member', 'auditor', 'runner-admin'] as const;

export type MemberRole = (typeof memberRoles)[number];

export const MemberRoleSchema = Type.Enum([...memberRoles], {
  description: 'owner, admin, member, auditor or runner-admin',
});

/** Name and e-mail, stored only when the organization turns profiles on. */
export const MemberProfileSchema = Type.Object(
  { name: Type.Optional(Type.String()), email: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export type MemberProfile = Static<typeof MemberProfileSchema>;

export const MemberSchema = Type.Object(
  {
    id: Id,
    role: MemberRoleSchema,
    /** Who signs in as this user: `oidc:<issuer>#<subject>` for single sign-on. */
    externalKey: Type.String(),
    createdAt: Timestamp,
    /** Set once removed: every token and session of the user is refused from then on. */
    removedAt: Type.Optional(Timestamp),
    profile: Type.Optional(MemberProfileSchema),
  },
  { additionalProperties: false },
);

export type Member = Static<typeof MemberSchema>;

export const MemberList = Type.Object(
  { members: Type.Array(MemberSchema) },
  { additionalProperties: false },
);

export const AddMemberBody = Type.Object(
  {
    issuer: Type.String({
      minLength: 1,
      maxLength: 1000,
      description: "the OpenID provider's issuer URL, exactly as its ID tokens name it (iss)",
    }),
    subject: Type.String({
      minLength: 1,
      maxLength: 255,
      description: "the user's subject at that provider (the sub claim of their ID token)",
    }),
    role: MemberRoleSchema,
  },
  { additionalProperties: false },
);

export type AddMemberBody = Static<typeof AddMemberBody>;

export const SetMemberRoleBody = Type.Object(
  { role: MemberRoleSchema },
  { additionalProperties: false },
);

export type SetMemberRoleBody = Static<typeof SetMemberRoleBody>;
