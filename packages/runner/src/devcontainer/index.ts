import { locateDevcontainer } from './locate.js';
import { parseDevcontainer } from './parse.js';
import { readDevcontainerFile } from './read-file.js';
import { resolveDevcontainer } from './resolve.js';
import type { EnvLookup, ResolvedDevcontainer } from './types.js';

export type * from './types.js';
export { DEFAULT_CONFIG_PATHS, locateDevcontainer, type LocatedDevcontainer } from './locate.js';
export { MAX_CONFIG_BYTES, readDevcontainerFile } from './read-file.js';
export { parseDevcontainer, type ParseDevcontainerOptions } from './parse.js';
export {
  isComposeConfig,
  resolveDevcontainer,
  type ResolveDevcontainerOptions,
} from './resolve.js';
export {
  substituteContainerEnv,
  substituteDevcontainerId,
  substituteLocal,
  type LocalSubstitutionContext,
} from './substitute.js';
export { applyContainerEnv } from './container-env.js';
export {
  noPortsConfig,
  portLook,
  portsConfigOf,
  type PortLook,
  type PortMatch,
  type PortsConfig,
} from './ports.js';
export {
  HOOK_RUNS,
  HOST_HOOK,
  LIFECYCLE_HOOKS,
  SHELL_ARGV,
  hooksFor,
  planCommand,
  planHooks,
  skippedHostCommand,
  waitForHook,
  type CommandStep,
  type HookPlan,
  type HookRuns,
  type LifecycleEvent,
  type LifecycleHook,
  type SkippedHostCommand,
} from './lifecycle.js';

export interface ReadDevcontainerOptions {
  /** The workspace folder (the repository's root) on the runner host. */
  workspaceDir: string;
  /** A path relative to the workspace folder; by default the standard places are searched. */
  configPath?: string;
  /** The only environment `${localEnv:...}` reads: a chosen set, never the runner's own env. */
  localEnv: EnvLookup;
  /** The folder's name in the environment (`/workspaces/<folderName>`); default: its basename. */
  folderName?: string;
}

export interface ReadDevcontainerResult {
  /** The config file's absolute path under the workspace folder. */
  configPath: string;
  /** The resolved configuration, the same shape as the reference's `read-configuration`. */
  config: ResolvedDevcontainer;
}

/**
 * Finds, reads, parses and resolves a workspace folder's devcontainer config. Returns null when
 * no path is named and none of the standard places holds one. Every problem with the file throws
 * `devcontainer_invalid` before anything is provisioned.
 */
export async function readDevcontainer(
  options: ReadDevcontainerOptions,
): Promise<ReadDevcontainerResult | null> {
  const { workspaceDir, configPath, localEnv, folderName } = options;
  const located = await locateDevcontainer({ workspaceDir, configPath });
  if (located === null) return null;

  const text = await readDevcontainerFile(located);
  const parsed = parseDevcontainer({ text, path: located.path });
  const config = resolveDevcontainer({
    config: parsed,
    configPath: located.path,
    workspaceDir,
    localEnv,
    folderName,
  });
  return { configPath: located.path, config };
}
