import { Type, type Static } from 'typebox';

/** The runner gateway's exec request: argv, never a shell string, unless the caller runs one. */
export const ExecRequestSchema = Type.Object(
  {
    command: Type.Array(Type.String({ maxLength: 131072 }), { minItems: 1, maxItems: 4096 }),
    cwd: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    env: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 256 }),
        Type.String({ maxLength: 131072 }),
      ),
    ),
    stdin: Type.Optional(Type.String({ description: 'base64', maxLength: 67108864 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400000 })),
  },
  { additionalProperties: false },
);

export type ExecRequest = Static<typeof ExecRequestSchema>;

export const ExecResultSchema = Type.Object(
  {
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    timedOut: Type.Boolean(),
    stdout: Type.String({ description: 'base64' }),
    stderr: Type.String({ description: 'base64' }),
    durationMs: Type.Number(),
  },
  { additionalProperties: false },
);

export type ExecResult = Static<typeof ExecResultSchema>;

export const FileEntrySchema = Type.Object(
  {
    name: Type.String(),
    type: Type.Union([
      Type.Literal('file'),
      Type.Literal('directory'),
      Type.Literal('symlink'),
      Type.Literal('other'),
    ]),
    size: Type.Integer(),
    mode: Type.Integer(),
    mtimeMs: Type.Number(),
  },
  { additionalProperties: false },
);

export type FileEntry = Static<typeof FileEntrySchema>;

export const FilePathQuery = Type.Object(
  { path: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
