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

/** The runner's own settings file (`--config`): what only the customer's side may hold. */
export const RunnerFileSchema = Type.Object(
  {
    classes: Type.Optional(Type.Array(RunnerClassSchema, { minItems: 1, maxItems: 50 })),
    gitCredentials: Type.Optional(Type.Array(GitCredential, { maxItems: 100 })),
    localRepositoryRoots: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 }),
    ),
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

export type RunnerConfig = Static<typeof RunnerConfigSchema>;

export const defaultClasses = [
  { name: 'small', cpu: 2, memoryMiB: 4096, pids: 2048 },
  { name: 'medium', cpu: 4, memoryMiB: 8192, pids: 4096 },
  { name: 'large', cpu: 8, memoryMiB: 16384, pids: 8192 },
];

export const runnerDefaults = {
  gatewayHost: '127.0.0.1',
  gatewayPort: 7701,
  sandboxUid: 1000,
  sandboxGid: 1000,
  sandboxUser: 'dev',
  classes: defaultClasses,
  gitCredentials: [],
  localRepositoryRoots: [],
  cloneTimeoutMs: 600000,
  lifecycleTimeoutMs: 1800000,
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
  return config;
}
