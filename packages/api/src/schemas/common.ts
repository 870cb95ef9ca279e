import { Type, type Static } from 'typebox';

export const Id = Type.String({ pattern: '^[a-z]{3}_[0-9a-z]{8,40}$', maxLength: 44 });

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 time, UTC' });

export const ErrorBodySchema = Type.Object(
  {
    code: Type.String({ description: 'stable error code; see the list in the API reference' }),
    message: Type.String({ description: 'what happened and what to do next' }),
    requestId: Type.String(),
    fields: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    ),
    policy: Type.Optional(
      Type.String({ description: 'the organization policy that refused the request' }),
    ),
    nextVersion: Type.Optional(
      Type.Integer({ description: "for a secret's version conflict: the version to seal" }),
    ),
    tokenKind: Type.Optional(
      Type.Union([Type.Literal('token'), Type.Literal('session')], {
        description: 'for a refused token: a sign-in session or an API token',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ActorSchema = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('user'),
      Type.Literal('agent'),
      Type.Literal('runner'),
      Type.Literal('system'),
    ]),
    id: Type.String({ maxLength: 200 }),
    onBehalfOf: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export type Actor = Static<typeof ActorSchema>;

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};
