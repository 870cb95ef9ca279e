import { Type, type Static } from 'typebox';
import { HangarError, validator } from '@hangar/api';

export const ControlPlaneConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    dataDir: Type.String({ minLength: 1 }),
    databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
    publicUrl: Type.Optional(Type.String({ minLength: 1 })),
    heartbeatIntervalMs: Type.Integer({ minimum: 100, maximum: 600000 }),
    operationTimeoutMs: Type.Integer({ minimum: 1000, maximum: 86400000 }),
    accessTokenTtlS: Type.Integer({ minimum: 10, maximum: 3600 }),
    /** How long a session token from `hangar login` lasts. */
    sessionTtlS: Type.Integer({ minimum: 60, maximum: 2592000 }),
    auditCheckpointEvery: Type.Integer({ minimum: 1, maximum: 100000 }),
    /** How often environments are checked against idleStopAfterMin and maxLifetimeMin. */
    policySweepIntervalMs: Type.Integer({ minimum: 100, maximum: 3600000 }),
    logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    /**
     * Whether an organization may name an http:// OpenID provider on 127.0.0.1, ::1 or
     * localhost; off by default, since it lets organization admins reach the control plane's
     * own loopback services. For one-machine setups (`hangar up`) and tests.
     */
    oidcAllowHttpLoopbackIssuers: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type ControlPlaneConfig = Static<typeof ControlPlaneConfigSchema>;

export const controlPlaneDefaults = {
  host: '127.0.0.1',
  port: 7700,
  heartbeatIntervalMs: 5000,
  operationTimeoutMs: 120000,
  accessTokenTtlS: 300,
  sessionTtlS: 43200,
  auditCheckpointEvery: 100,
  policySweepIntervalMs: 30000,
  logLevel: 'info',
  oidcAllowHttpLoopbackIssuers: false,
} as const;

const check = validator(ControlPlaneConfigSchema, 'control plane configuration');

/** Validates the whole configuration at start-up, so a bad setting fails at once. */
export function resolveControlPlaneConfig(
  input: Partial<ControlPlaneConfig> & { dataDir: string },
): ControlPlaneConfig {
  const config = check({ ...controlPlaneDefaults, ...input });
  if (config.publicUrl !== undefined && !isHttpUrl(config.publicUrl)) {
    throw new HangarError('invalid_request', 'publicUrl must be an http:// or https:// URL', {
      fields: [{ field: 'publicUrl', message: 'must be an http:// or https:// URL' }],
    });
  }
  return config;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
