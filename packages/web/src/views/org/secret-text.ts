import type { SecretDelivery, SecretScope } from '../../org-types.js';

/** How each delivery reads on the page. */
export const deliveryText: Record<SecretDelivery, string> = {
  env: 'environment variable',
  file: 'file',
  git: 'git host credential',
  model: 'model key',
};

export const scopeText: Record<SecretScope, string> = {
  user: 'yours (user)',
  project: 'a project',
  org: 'the organization',
};

/** `org`, `project web`, `user`: the scope as the CLI and messages name it. */
export function scopeName(secret: { scope: SecretScope; scopeId?: string; project?: string }) {
  if (secret.scope === 'project') return `project ${secret.project ?? secret.scopeId ?? ''}`;
  return secret.scope;
}
