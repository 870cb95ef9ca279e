import { setOwn } from './json-tree.js';
import { LIFECYCLE_HOOKS } from './lifecycle.js';
import { substituteContainerEnv } from './substitute.js';
import type { DevcontainerConfig, EnvLookup } from './types.js';

/**
 * Substitutes `${containerEnv:NAME[:default]}` in `remoteEnv` and in the lifecycle commands that
 * run inside the environment, once the environment's own variables are known. Returns a copy.
 */
export function applyContainerEnv<T extends DevcontainerConfig>(
  config: T,
  containerEnv: EnvLookup,
): T {
  const copy = { ...config };
  const fields = ['remoteEnv', ...LIFECYCLE_HOOKS] as const;
  for (const field of fields) {
    if (config[field] !== undefined) {
      setOwn(copy, field, substituteContainerEnv(config[field], containerEnv));
    }
  }
  return copy;
}
