import { Type, type Static } from 'typebox';
import { PortShareLevelSchema } from './ports.js';

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
    mask: Type.Optional(
      Type.Boolean({
        description:
          "true: the environment's secret values are replaced by *** in the output (also their " +
          'base64, URL-encoded and JSON-escaped forms)',
      }),
    ),
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

/** A process id as envd hands it out. */
export const ProcessId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', maxLength: 64 });

/** Seven days: the longest a durable command may run. */
export const maxProcessTimeoutMs = 7 * 24 * 3600 * 1000;

/** A command that keeps running without a client: `POST /v1/environments/:id/processes`. */
export const ProcessStartSchema = Type.Object(
  {
    command: ExecRequestSchema.properties.command,
    cwd: ExecRequestSchema.properties.cwd,
    env: ExecRequestSchema.properties.env,
    mask: Type.Optional(
      Type.Boolean({
        description: "true: the environment's secret values are masked in the process's output",
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: maxProcessTimeoutMs,
        description:
          'kills the whole process group when reached; 24 hours when absent, 7 days at most',
      }),
    ),
  },
  { additionalProperties: false },
);

export type ProcessStart = Static<typeof ProcessStartSchema>;

export const ProcessInfoSchema = Type.Object(
  {
    id: Type.String(),
    /** What started it: `command` (detached), `terminal`, or another data-plane client. */
    kind: Type.String(),
    command: Type.Array(Type.String()),
    pty: Type.Boolean(),
    pid: Type.Integer(),
    startedAt: Type.String(),
    state: Type.Union([Type.Literal('running'), Type.Literal('exited')]),
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    timedOut: Type.Boolean(),
    endedAt: Type.Union([Type.String(), Type.Null()]),
    outputBytes: Type.Integer({ description: 'bytes of output so far: the next byte offset' }),
  },
  { additionalProperties: false },
);

export type ProcessInfoBody = Static<typeof ProcessInfoSchema>;

export const ProcessListSchema = Type.Object(
  { processes: Type.Array(ProcessInfoSchema) },
  { additionalProperties: false },
);

/** One process with the end of its output, stdout and stderr interleaved as produced. */
export const ProcessDetailSchema = Type.Object(
  {
    ...ProcessInfoSchema.properties,
    outputTail: Type.String({ description: 'base64' }),
    outputTailFrom: Type.Integer({ description: 'the byte offset outputTail starts at' }),
  },
  { additionalProperties: false },
);

export type ProcessDetail = Static<typeof ProcessDetailSchema>;

export const ProcessTailQuery = Type.Object(
  {
    tailBytes: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 1024 * 1024, description: '64 KiB when absent' }),
    ),
    fromOffset: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'the tail starts no earlier than this byte of the output: a reader that follows the ' +
          'output asks from where it left off (a masked tail is shorter than the bytes it ' +
          'covers, so its length cannot tell where that is)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const processSignals = [
  'SIGTERM',
  'SIGKILL',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGSTOP',
  'SIGCONT',
] as const;

export const ProcessSignalBody = Type.Object(
  { signal: Type.Union(processSignals.map((name) => Type.Literal(name))) },
  { additionalProperties: false },
);

export const ProcessWaitQuery = Type.Object(
  {
    timeoutS: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 300, description: '30 when absent; 0 answers at once' }),
    ),
  },
  { additionalProperties: false },
);

export const ProcessAttachQuery = Type.Object(
  {
    fromOffset: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'replay kept output from this byte offset; only new output when absent',
      }),
    ),
  },
  { additionalProperties: false },
);

/** One port of an environment: listening now, named in devcontainer.json, or both. */
export const PortEntrySchema = Type.Object(
  {
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    listening: Type.Boolean(),
    addresses: Type.Array(
      Type.Object(
        {
          address: Type.String(),
          family: Type.Union([Type.Literal('ipv4'), Type.Literal('ipv6')]),
          loopbackOnly: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    /** True when every socket on the port is bound to loopback; null when not listening. */
    loopbackOnly: Type.Union([Type.Boolean(), Type.Null()]),
    process: Type.Union([
      Type.Object({ pid: Type.Integer(), command: Type.String() }, { additionalProperties: false }),
      Type.Null(),
    ]),
    /** Listed in devcontainer.json `forwardPorts`. */
    forwarded: Type.Boolean(),
    label: Type.Optional(Type.String()),
    protocol: Type.Optional(Type.String()),
    onAutoForward: Type.Optional(Type.String()),
    share: PortShareLevelSchema,
    /** The gateway's proxy for this port (path form; the host form too when configured). */
    url: Type.String(),
    hostUrl: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export type PortEntry = Static<typeof PortEntrySchema>;

export const PortListSchema = Type.Object(
  { ports: Type.Array(PortEntrySchema) },
  { additionalProperties: false },
);

const TerminalSize = {
  cols: Type.Integer({ minimum: 1, maximum: 1000 }),
  rows: Type.Integer({ minimum: 1, maximum: 1000 }),
};

/**
 * The first message on `GET /v1/environments/:id/terminal`: open a new terminal (the login
 * shell unless `command` is given) or attach again to one of the caller's own.
 */
export const TerminalStartSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('open'),
      ...TerminalSize,
      command: Type.Optional(ExecRequestSchema.properties.command),
      term: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._+-]{1,64}$' })),
      mask: ExecRequestSchema.properties.mask,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('attach'),
      processId: ProcessId,
      fromOffset: Type.Integer({ minimum: 0 }),
      ...{ cols: Type.Optional(TerminalSize.cols), rows: Type.Optional(TerminalSize.rows) },
    },
    { additionalProperties: false },
  ),
]);

export type TerminalStart = Static<typeof TerminalStartSchema>;

/** Later text messages of a terminal client: a new window size. */
export const TerminalResizeSchema = Type.Object(
  { type: Type.Literal('resize'), ...TerminalSize },
  { additionalProperties: false },
);
