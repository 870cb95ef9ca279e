import path from 'node:path';
import { HangarError } from '@hangar/api';
import { setOwn } from './json-tree.js';
import { moveLegacyProperties } from './legacy.js';
import { substituteLocal } from './substitute.js';
import type {
  ConfigFileUri,
  DevcontainerConfig,
  DevcontainerConfiguration,
  EnvLookup,
  ResolvedDevcontainer,
  WorkspaceConfiguration,
} from './types.js';

export interface ResolveDevcontainerOptions {
  /** The parsed file, as `parseDevcontainer` returns it. */
  config: DevcontainerConfig;
  /** The absolute path of the config file on the runner host. */
  configPath: string;
  /** The absolute path of the workspace folder on the runner host. */
  workspaceDir: string;
  /**
   * The workspace folder's name inside the environment (`/workspaces/<folderName>`) and the value
   * of `${localWorkspaceFolderBasename}`; by default the basename of `workspaceDir`.
   */
  folderName?: string;
  /** The only environment `${localEnv:...}` reads; never the runner's whole `process.env`. */
  localEnv: EnvLookup;
}

/**
 * Resolves a parsed configuration as the reference's `read-configuration` does (with no git
 * root mount): legacy fields moved, host-side variables substituted, the workspace folder and
 * mount worked out, the config file recorded in `configFilePath`.
 */
export function resolveDevcontainer(options: ResolveDevcontainerOptions): ResolvedDevcontainer {
  const workspaceDir = path.resolve(options.workspaceDir);
  const folderName = checkFolderName(options.folderName ?? path.basename(workspaceDir));
  const configPath = path.resolve(options.configPath);

  const updated = moveLegacyProperties(options.config, configPath);
  const workspace = defaultWorkspace({ config: updated, workspaceDir, folderName });
  const substituted = substituteLocal(updated, {
    localEnv: options.localEnv,
    localWorkspaceFolder: workspaceDir,
    localWorkspaceFolderBasename: folderName,
    containerWorkspaceFolder: workspace.workspaceFolder ?? '/',
    configPath,
  });

  if (typeof substituted.workspaceFolder === 'string') {
    workspace.workspaceFolder = substituted.workspaceFolder;
  }
  if (Object.hasOwn(substituted, 'workspaceMount')) {
    workspace.workspaceMount = substituted.workspaceMount;
  }

  setOwn(substituted, 'configFilePath', configFileUri(configPath));
  return {
    configuration: substituted as DevcontainerConfiguration,
    workspace: withoutUndefined(workspace),
  };
}

export function isComposeConfig(config: DevcontainerConfig): boolean {
  return Object.hasOwn(config, 'dockerComposeFile');
}

/**
 * The workspace block before substitution. A compose configuration names its own folder (or
 * `/`) and gets no mount; any other gets `/workspaces/<folder name>` bind-mounted from the
 * workspace folder unless it says otherwise.
 */
function defaultWorkspace(options: {
  config: DevcontainerConfig;
  workspaceDir: string;
  folderName: string;
}): WorkspaceConfiguration {
  const { config, workspaceDir, folderName } = options;
  if (isComposeConfig(config)) return { workspaceFolder: config.workspaceFolder || '/' };
  let workspaceFolder = config.workspaceFolder;
  let workspaceMount = config.workspaceMount;
  const hasMount = Object.hasOwn(config, 'workspaceMount');
  if (!workspaceFolder || !hasMount) {
    const containerMountFolder = path.posix.join('/workspaces', folderName);
    if (!workspaceFolder) workspaceFolder = containerMountFolder;
    if (!hasMount) {
      const source = quoteIfComma(`source=${workspaceDir}`, workspaceDir);
      const target = quoteIfComma(`target=${containerMountFolder}`, containerMountFolder);
      workspaceMount = `type=bind,${source},${target}`;
    }
  }
  return { workspaceFolder, workspaceMount };
}

/** A mount option whose value holds a comma is quoted whole, as the reference writes it. */
function quoteIfComma(option: string, value: string): string {
  return value.includes(',') ? `"${option}"` : option;
}

function withoutUndefined(workspace: WorkspaceConfiguration): WorkspaceConfiguration {
  const result: WorkspaceConfiguration = {};
  if (workspace.workspaceFolder !== undefined) result.workspaceFolder = workspace.workspaceFolder;
  if (workspace.workspaceMount !== undefined) result.workspaceMount = workspace.workspaceMount;
  return result;
}

function configFileUri(configPath: string): ConfigFileUri {
  return { $mid: 1, fsPath: configPath, path: configPath, scheme: 'vscode-fileHost' };
}

function checkFolderName(folderName: string): string {
  const valid =
    folderName !== '' && folderName !== '.' && folderName !== '..' && !folderName.includes('/');
  if (valid && !folderName.includes('\0')) return folderName;
  const message =
    `The workspace folder name ${JSON.stringify(folderName)} is not a single path segment; ` +
    'pass a name such as the repository name.';
  throw new HangarError('invalid_request', message);
}
