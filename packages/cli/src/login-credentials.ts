import type { WhoAmIResponse } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { readCredentialsFile } from './credentials.js';
import { HttpClient } from './http-client.js';

/** Whose credentials a file holds, as its control plane says, before a sign-in replaces them. */
export type Holder =
  | { kind: 'none' }
  /** Its token is refused (ended, revoked, expired): nothing in it is worth keeping. */
  | { kind: 'ended' }
  | { kind: 'user'; userId: string; orgName: string }
  | { kind: 'elsewhere'; controlPlaneUrl: string }
  | { kind: 'unknown'; why: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads the credentials file at `path` and asks `controlPlaneUrl` whose its token is. A file
 * for another control plane is not asked about: its token goes nowhere but its own.
 */
export async function holderOf(path: string, controlPlaneUrl: string): Promise<Holder> {
  let stored;
  try {
    stored = await readCredentialsFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unknown', why: messageOf(error) };
  }
  const storedUrl = stored.controlPlaneUrl.replace(/\/+$/, '');
  if (storedUrl !== controlPlaneUrl) return { kind: 'elsewhere', controlPlaneUrl: storedUrl };
  const api = new HttpClient({ baseUrl: storedUrl, token: stored.token, service: 'control plane' });
  try {
    const me = await api.get<WhoAmIResponse>('/v1/whoami');
    return { kind: 'user', userId: me.userId, orgName: me.orgName };
  } catch (error) {
    const refused =
      error instanceof HangarError &&
      (error.code === 'unauthenticated' || error.code === 'token_expired');
    return refused ? { kind: 'ended' } : { kind: 'unknown', why: messageOf(error) };
  }
}

/** Why a sign-in as `userId` (undefined: not yet known) must not replace them, or undefined. */
export function replaceProblem(holder: Holder, userId: string | undefined): string | undefined {
  switch (holder.kind) {
    case 'none':
    case 'ended':
      return undefined;
    case 'user':
      if (userId === undefined || holder.userId === userId) return undefined;
      return `holds the credentials of ${holder.userId} in ${holder.orgName}, not yours (${userId})`;
    case 'elsewhere':
      return `holds credentials for another control plane, ${holder.controlPlaneUrl}`;
    case 'unknown':
      return `could not be checked (${holder.why})`;
  }
}

/** What the write replaced, in words, or undefined when there was nothing. */
export function replacedText(holder: Holder, userId: string): string | undefined {
  switch (holder.kind) {
    case 'none':
      return undefined;
    case 'ended':
      return 'a token the control plane no longer accepts';
    case 'user':
      return holder.userId === userId
        ? 'your earlier credentials'
        : `the credentials of ${holder.userId} in ${holder.orgName}`;
    case 'elsewhere':
      return `the credentials for ${holder.controlPlaneUrl}`;
    case 'unknown':
      return 'a file that could not be checked';
  }
}
