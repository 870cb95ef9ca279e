import { mkdir } from 'node:fs/promises';
import { HangarError } from '@hangar/api/errors.js';
import { createLogger, startControlPlane, type ControlPlane } from '@hangar/control-plane';
import type { LogLevel } from './log-level.js';

export interface ControlPlaneStartInput {
  dataDir: string;
  host: string;
  port: number;
  databaseUrl?: string;
  publicUrl?: string;
  logLevel: LogLevel;
  /** Lets organizations name an http:// OpenID provider on loopback (one-machine setups). */
  oidcAllowHttpLoopbackIssuers?: boolean;
}

/** A listen failure in words: the address, and what to do about it. */
function listenError(error: unknown, input: ControlPlaneStartInput): HangarError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const address = `${input.host}:${input.port}`;
  if (code === 'EADDRINUSE') {
    return new HangarError(
      'conflict',
      `${address} is already in use (another \`hangar up\` or \`hangar control\`?); stop it or ` +
        'pass --port with a free port',
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new HangarError(
      'invalid_request',
      `cannot listen on ${address} (${code}); pick another --host or --port`,
      {
        cause: error,
      },
    );
  }
  return undefined;
}

/** Starts the control plane in this process, its data directory created 0700 when absent. */
export async function startControlPlaneHere(
  input: ControlPlaneStartInput,
  destination: { write(message: string): unknown },
): Promise<ControlPlane> {
  await mkdir(input.dataDir, { recursive: true, mode: 0o700 });
  const logger = createLogger({ level: input.logLevel, destination });
  try {
    return await startControlPlane(
      {
        dataDir: input.dataDir,
        host: input.host,
        port: input.port,
        logLevel: input.logLevel,
        ...(input.databaseUrl ? { databaseUrl: input.databaseUrl } : {}),
        ...(input.publicUrl ? { publicUrl: input.publicUrl } : {}),
        ...(input.oidcAllowHttpLoopbackIssuers ? { oidcAllowHttpLoopbackIssuers: true } : {}),
      },
      { logger },
    );
  } catch (error) {
    throw listenError(error, input) ?? error;
  }
}
