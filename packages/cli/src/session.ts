import type { FlagSpec } from './args.js';
import { resolveCredentials, type ResolvedCredentials } from './credentials.js';
import { HttpClient } from './http-client.js';
import type { Io } from './io.js';

/** Flags of every command that talks to the control plane. */
export const apiFlags = {
  url: {
    type: 'string',
    valueName: 'URL',
    describe: 'control plane URL (default: HANGAR_URL, then the credentials file)',
  },
  token: {
    type: 'string',
    valueName: 'TOKEN',
    describe: 'API token (default: HANGAR_TOKEN, then the credentials file)',
  },
} as const satisfies Record<string, FlagSpec>;

export interface Session {
  api: HttpClient;
  credentials: ResolvedCredentials;
}

/** Finds the credentials and returns a client for the control plane. */
export async function openSession(
  io: Pick<Io, 'env' | 'cwd' | 'homeDir'>,
  flags: { url?: string | undefined; token?: string | undefined },
): Promise<Session> {
  const credentials = await resolveCredentials(io, flags);
  const api = new HttpClient({
    baseUrl: credentials.controlPlaneUrl,
    token: credentials.token,
    service: 'control plane',
    authHint:
      `the token came from ${credentials.tokenSource}; run \`hangar up\` again for a fresh one, ` +
      'or create one with `hangar token create`',
    // The control plane's message says to sign in again; only the origin is added.
    sessionAuthHint: `the session came from ${credentials.tokenSource}`,
    unreachableHint: `is it running? (URL from ${credentials.urlSource}; \`hangar up\` starts one)`,
  });
  return { api, credentials };
}
