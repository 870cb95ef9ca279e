import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { HangarError, RunnerClassSchema, parseJsonFile, validator } from '@hangar/api';

const GitCredential = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'host (and :port) the credential is for' }),
    protocol: Type.Optional(
      Type.Enum(['https', 'http'], {
        description: 'https unless set: a credential is never sent over plain http by accident',
      }),
    ),
    username: Type.Optional(Type.String()),
    password: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export type GitCredential = Static<typeof GitCredential>;

/** Shared ports are also served at `<port>-<environment id>.<portsDomain>` (wildcard DNS). */
const PortsDomain = Type.String({
  pattern:
    '^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'a lower-case DNS name without port, e.g. ports.dev.example.com',
});
/** How long a terminal with no client attached keeps running, so that a client can return. */
const TerminalGraceMs = Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 * 1000 });

/** The runner's own settings file (`--config`): what only the customer's side may hold. */
export const RunnerFileSchema = Type.Object(
  {
    classes: Type.Optional(Type.Array(RunnerClassSchema, { minItems: 1, maxItems: 50 })),
    gitCredentials: Type.Optional(Type.Array(GitCredential, { maxItems: 100 })),
    localRepositoryRoots: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 }),
    ),
    portsDomain: Type.Optional(PortsDomain),
    terminalGraceMs: Type.Optional(TerminalGraceMs),
  },
  { additionalProperties: false },
);

export const RunnerConfigSchema = Type.Object(
  {
    controlPlaneUrl: Type.String({ minLength: 1 }),
    enrollmentToken: Type.Optional(Type.String({ minLength: 1 })),
    dataDir: Type.String({ minLength: 1 }),
    gatewayHost: Type.String({ minLength: 1 }),
    gatewayPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    gatewayPublicUrl: Type.Optional(Type.String({ minLength: 1 })),
    portsDomain: Type.Optional(PortsDomain),
    terminalGraceMs: TerminalGraceMs,
    /** The SSH gateway's listen address; 127.0.0.1 unless set. */
    sshHost: Type.String({ minLength: 1 }),
    /** The SSH gateway's port: the gateway port + 1 unless set, any free one when that is 0. */
    sshPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** `host` or `host:port` that clients dial, when not the listen address (behind NAT, say). */
    sshPublicAddress: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    sandboxUid: Type.Integer({ minimum: 1, maximum: 4294967294 }),
    sandboxGid: Type.Integer({ minimum: 1, maximum: 4294967294 }),
    sandboxUser: Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$' }),
    classes: Type.Array(RunnerClassSchema, { minItems: 1, maxItems: 50 }),
    gitCredentials: Type.Array(GitCredential),
    /**
     * Folders on the runner host whose repositories environments may clone by path or file://.
     * None by default: a path clone reads the host as the sandbox user.
     */
    localRepositoryRoots: Type.Array(Type.String({ minLength: 1 })),
    cloneTimeoutMs: Type.Integer({ minimum: 1000 }),
    lifecycleTimeoutMs: Type.Integer({ minimum: 1000 }),
    stopEnvironmentsOnExit: Type.Boolean(),
    logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  { additionalProperties: false },
);

/** `sshPort` is always set once resolved. */
export type RunnerConfig = Static<typeof RunnerConfigSchema> & { sshPort: number };

export const defaultClasses = [
  { name: 'small', cpu: 2, memoryMiB: 4096, pids: 2048 },
  { name: 'medium', cpu: 4, memoryMiB: 8192, pids: 4096 },
  { name: 'large', cpu: 8, memoryMiB: 16384, pids: 8192 },
];

export const runnerDefaults = {
  gatewayHost: '127.0.0.1',
  gatewayPort: 7701,
  sshHost: '127.0.0.1',
  sandboxUid: 1000,
  sandboxGid: 1000,
  sandboxUser: 'dev',
  classes: defaultClasses,
  gitCredentials: [],
  localRepositoryRoots: [],
  cloneTimeoutMs: 600000,
  lifecycleTimeoutMs: 1800000,
  terminalGraceMs: 600000,
  stopEnvironmentsOnExit: false,
  logLevel: 'info',
} as const;

const checkConfig = validator(RunnerConfigSchema, 'runner configuration');
const checkFile = validator(RunnerFileSchema, 'runner configuration file');

function checkUrl(value: string, field: string, protocols: string[]): void {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = '';
  }
  if (!protocols.includes(protocol)) {
    const message = `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`;
    throw new HangarError('invalid_request', `${field} ${message}: ${value}`, {
      fields: [{ field, message }],
    });
  }
}

/** Validates every setting at start-up; a bad one fails at once, naming the field. */
export async function resolveRunnerConfig(
  input: Partial<RunnerConfig> & { controlPlaneUrl: string; dataDir: string; configFile?: string },
): Promise<RunnerConfig> {
  const { configFile, ...flags } = input;
  let fromFile = {};
  if (configFile) {
    let text: string;
    try {
      text = await readFile(configFile, 'utf8');
    } catch (error) {
      throw new HangarError(
        'invalid_request',
        `cannot read --config ${configFile}: ${String(error)}`,
      );
    }
    const parsed = parseJsonFile(text, configFile, 'fix the file, or leave out --config');
    fromFile = checkFile(parsed, configFile);
  }
  const config = checkConfig({ ...runnerDefaults, ...fromFile, ...flags });
  checkUrl(config.controlPlaneUrl, 'controlPlaneUrl', ['http:', 'https:']);
  if (config.gatewayPublicUrl) {
    checkUrl(config.gatewayPublicUrl, 'gatewayPublicUrl', ['http:', 'https:']);
  }
  if (config.sshPublicAddress) checkSshAddress(config.sshPublicAddress);
  for (const root of config.localRepositoryRoots) {
    if (!root.startsWith('/')) {
      throw new HangarError(
        'invalid_request',
        `localRepositoryRoots entry ${root} is not absolute`,
        {
          fields: [{ field: 'localRepositoryRoots', message: 'entries must be absolute paths' }],
        },
      );
    }
  }
  const names = new Set<string>();
  for (const item of config.classes) {
    if (names.has(item.name)) {
      throw new HangarError('invalid_request', `class ${item.name} is defined twice`, {
        fields: [{ field: 'classes', message: `names must be unique; ${item.name} repeats` }],
      });
    }
    names.add(item.name);
  }
  return { ...config, sshPort: sshPortOf(config) };
}

function sshPortOf(config: Static<typeof RunnerConfigSchema>): number {
  if (config.sshPort !== undefined) return config.sshPort;
  if (config.gatewayPort === 0) return 0;
  if (config.gatewayPort < 65535) return config.gatewayPort + 1;
  throw new HangarError('invalid_request', 'sshPort has no default when gatewayPort is 65535', {
    fields: [{ field: 'sshPort', message: 'set it when the gateway port is 65535' }],
  });
}

/** `host`, `host:port` or `[v6]:port`: no scheme, user or path, a port from 1 to 65535. */
function checkSshAddress(value: string): void {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    const message =
      'must be host or host:port (a port from 1 to 65535), such as ssh.example.com:22';
    throw new HangarError('invalid_request', `sshPublicAddress ${message}: ${value}`, {
      fields: [{ field: 'sshPublicAddress', message }],
    });
  }
}
