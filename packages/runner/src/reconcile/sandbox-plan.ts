import type { Condition, DesiredEnvironment, RunnerClass } from '@hangar/api';
import { HangarError } from '@hangar/api';
import type { RunnerConfig } from '../config.js';
import {
  applyContainerEnv,
  portsConfigOf,
  readDevcontainer,
  type DevcontainerConfiguration,
  type PortsConfig,
} from '../devcontainer/index.js';
import type { SandboxSpec } from '../providers/provider.js';
import type { StateStore } from '../state-store.js';
import { resolveRootImage } from './image-catalogue.js';
import { workspaceFolderName } from './workspace.js';

export const basePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SandboxPlan {
  spec: SandboxSpec;
  config: DevcontainerConfiguration | undefined;
  /** The variables lifecycle commands run with: remoteEnv over the container's own. */
  remoteEnv: Record<string, string>;
  /** devcontainer `forwardPorts` and `portsAttributes`, for the gateway's port list. */
  ports: PortsConfig;
  conditions: Condition[];
}

function userOf(config: RunnerConfig, devcontainer: DevcontainerConfiguration | undefined) {
  const asked = devcontainer?.remoteUser ?? devcontainer?.containerUser;
  const conditions: Condition[] = [];
  let name = asked ?? config.sandboxUser;
  if (name === 'root' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) {
    conditions.push({
      type: 'UserMapped',
      status: 'false',
      reason: name === 'root' ? 'RootRefused' : 'InvalidUserName',
      message:
        `devcontainer.json asks for ${name === 'root' ? 'root' : 'a user name Hangar cannot use'}; ` +
        `processes run as the unprivileged user ${config.sandboxUser} (uid ${config.sandboxUid}) ` +
        'instead: never root',
    });
    name = config.sandboxUser;
  }
  return { user: { uid: config.sandboxUid, gid: config.sandboxGid, name }, conditions };
}

function classOf(config: RunnerConfig, name: string): RunnerClass {
  const found = config.classes.find((item) => item.name === name);
  if (!found) {
    const known = config.classes.map((item) => item.name).join(', ');
    throw new HangarError(
      'invalid_request',
      `class ${name} is not offered by this runner (${known})`,
      {
        details: { reason: 'UnknownClass' },
      },
    );
  }
  return found;
}

/**
 * Reads the workspace's devcontainer.json and turns it into what the provider starts. A malformed
 * file fails here, before any sandbox exists.
 */
export async function planSandbox(options: {
  desired: DesiredEnvironment;
  store: StateStore;
  config: RunnerConfig;
}): Promise<SandboxPlan> {
  const { desired, store, config } = options;
  const folderName = workspaceFolderName(desired);
  const localEnv = {
    HOME: `/home/${config.sandboxUser}`,
    USER: config.sandboxUser,
    PATH: basePath,
  };
  const read = await readDevcontainer({
    workspaceDir: store.workspaceDir(desired.id),
    ...(desired.spec.devcontainerPath ? { configPath: desired.spec.devcontainerPath } : {}),
    localEnv,
    folderName,
  });
  if (!read && desired.spec.devcontainerPath) {
    throw new HangarError(
      'devcontainer_invalid',
      `no devcontainer.json at ${desired.spec.devcontainerPath} in the repository`,
      { details: { reason: 'DevcontainerNotFound' } },
    );
  }
  const resolved = read?.config.configuration;
  const { user, conditions } = userOf(config, resolved);
  const folder = read?.config.workspace.workspaceFolder;
  const workspaceFolder =
    folder && folder.startsWith('/') && !folder.split('/').includes('..')
      ? folder
      : `/workspaces/${folderName}`;
  const containerEnv = { ...(resolved?.containerEnv ?? {}) };
  const baseEnv = { PATH: basePath, HOME: `/home/${user.name}`, USER: user.name, ...containerEnv };
  const withEnv = resolved ? applyContainerEnv(resolved, baseEnv) : undefined;
  const remoteEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(withEnv?.remoteEnv ?? {})) {
    if (typeof value === 'string') remoteEnv[key] = value;
  }
  return {
    spec: {
      environmentId: desired.id,
      workspaceDir: store.workspaceDir(desired.id),
      workspaceFolder,
      class: classOf(config, desired.spec.class),
      user,
      containerEnv,
    },
    config: withEnv,
    remoteEnv,
    ports: portsConfigOf(withEnv),
    conditions: [resolveRootImage(resolved), ...conditions],
  };
}
