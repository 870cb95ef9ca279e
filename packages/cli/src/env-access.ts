import type { AccessOperation, Environment } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { UsageError } from './errors.js';
import { resolveEnvironment } from './environments.js';
import { requestAccess, type GatewayAccess } from './gateway.js';
import type { HttpClient } from './http-client.js';
import type { Io } from './io.js';
import { openSession } from './session.js';

/** `--break-glass REASON`, for the commands that open an environment. */
export const breakGlassFlags = {
  'break-glass': {
    type: 'string',
    valueName: 'REASON',
    describe:
      "open another member's environment as an owner or admin, when the organization policy " +
      'breakGlass allows it; the reason (10 characters at least) goes into the audit log',
  },
} as const;

/** `--break-glass REASON` checked before anything is asked: 10 to 1000 characters. */
export function breakGlassReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  const length = reason.trim().length;
  if (length >= 10 && reason.length <= 1000) return reason;
  const message =
    length < 10
      ? 'needs a reason of at least 10 characters, for the audit log'
      : 'takes a reason of at most 1000 characters';
  throw new UsageError(`--break-glass ${message}`, {
    fields: [{ field: 'break-glass', message }],
  });
}

/** A running environment, the control plane client, and a way to get fresh grants for it. */
export interface RunningEnvironment {
  api: HttpClient;
  environment: Environment;
  /** A grant with these operations; a kept one while it has a minute left, else a new one. */
  access: () => Promise<GatewayAccess>;
}

/**
 * Resolves `reference` to a running environment and asks for a grant with `operations` on its
 * runner's gateway, with `--break-glass` when given. A stopped environment is an error that
 * says how to start it.
 */
export async function openRunningEnvironment(
  io: Pick<Io, 'env' | 'cwd' | 'homeDir'>,
  flags: {
    url?: string | undefined;
    token?: string | undefined;
    'break-glass'?: string | undefined;
  },
  reference: string,
  operations: AccessOperation[],
): Promise<RunningEnvironment> {
  const reason = breakGlassReason(flags['break-glass']);
  const { api } = await openSession(io, flags);
  const environment = await resolveEnvironment(api, reference);
  if (environment.status.phase !== 'running') {
    throw new HangarError(
      'environment_not_running',
      `environment ${environment.name} is ${environment.status.phase}, not running; ` +
        `start it with \`hangar env start ${environment.name} --wait\``,
    );
  }
  let kept: GatewayAccess | undefined;
  const access = async () => {
    if (kept && Date.parse(kept.expiresAt) - Date.now() > 60_000) return kept;
    kept = await requestAccess(api, environment.id, operations, { breakGlassReason: reason });
    return kept;
  };
  await access();
  return { api, environment, access };
}

/** `/v1/environments/<id>` and what follows, with the id encoded. */
export function environmentPath(access: GatewayAccess, rest = ''): string {
  return `/v1/environments/${encodeURIComponent(access.environmentId)}${rest}`;
}
