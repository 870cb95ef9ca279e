import type { Secret, SecretScope } from '@hangar/api';
import type { FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import type { HttpClient } from './http-client.js';

/** The scope flags of `secret set` and `secret delete`; at most one, `--user` by default. */
export const scopeFlags = {
  org: { type: 'boolean', describe: 'an organization secret: every environment gets it' },
  project: {
    type: 'string',
    valueName: 'P',
    describe: 'a project secret: environments created with --project P get it',
  },
  user: { type: 'boolean', describe: 'your own secret: your environments get it (the default)' },
} as const satisfies Record<string, FlagSpec>;

export interface ChosenScope {
  scope: SecretScope;
  project?: string;
}

export function chosenScope(
  flags: { org: boolean; project?: string | undefined; user: boolean },
  commandPath: string,
): ChosenScope {
  const given = [flags.org, flags.project !== undefined, flags.user].filter(Boolean).length;
  if (given > 1) {
    throw new UsageError('give at most one of --org, --project P and --user', { commandPath });
  }
  if (flags.org) return { scope: 'org' };
  if (flags.project !== undefined) return { scope: 'project', project: flags.project };
  return { scope: 'user' };
}

/** How a scope reads in messages: `org`, `project web`, `user`. */
export function scopeText(secret: { scope: SecretScope; scopeId?: string; project?: string }) {
  if (secret.scope === 'project') return `project ${secret.project ?? secret.scopeId ?? ''}`;
  return secret.scope;
}

/** The stored secret of this name and scope, if the caller can see one. */
export async function findSecret(
  api: HttpClient,
  name: string,
  chosen: ChosenScope,
  userId: string,
): Promise<Secret | undefined> {
  const { secrets } = await api.get<{ secrets: Secret[] }>('/v1/secrets');
  const scopeId = chosen.scope === 'org' ? '' : chosen.scope === 'user' ? userId : chosen.project;
  return secrets.find(
    (item) => item.name === name && item.scope === chosen.scope && item.scopeId === scopeId,
  );
}
