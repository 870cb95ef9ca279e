/**
 * The shapes of a devcontainer.json as Hangar reads it. Only the fields a runtime uses are typed;
 * every other field is kept as written (`unknown`), so the resolved output has the same shape as
 * the reference implementation's `read-configuration`.
 */

/** A lifecycle command: a shell string, an argv array, or named commands run in parallel. */
export type LifecycleCommand = string | string[] | { [name: string]: string | string[] };

/** The environment a value is looked up in: the runner's own choice, never its whole env. */
export type EnvLookup = Readonly<Record<string, string | undefined>>;

export interface MountObject {
  type: 'bind' | 'volume';
  source?: string;
  target: string;
  [key: string]: unknown;
}

export interface PortAttributes {
  label?: string;
  onAutoForward?: string;
  requireLocalPort?: boolean;
  elevateIfNeeded?: boolean;
  protocol?: string;
  [key: string]: unknown;
}

export interface BuildOptions {
  dockerfile?: string;
  context?: string;
  target?: string;
  args?: Record<string, string>;
  cacheFrom?: string | string[];
  options?: string[];
  [key: string]: unknown;
}

export interface HostRequirements {
  cpus?: number;
  memory?: string;
  storage?: string;
  gpu?: boolean | 'optional' | Record<string, unknown>;
  [key: string]: unknown;
}

/** A parsed and type-checked devcontainer.json, before substitution. */
export interface DevcontainerConfig {
  name?: string;
  image?: string;
  build?: BuildOptions;
  dockerFile?: string;
  context?: string;
  dockerComposeFile?: string | string[];
  service?: string;
  runServices?: string[];
  workspaceFolder?: string;
  workspaceMount?: string;
  initializeCommand?: LifecycleCommand;
  onCreateCommand?: LifecycleCommand;
  updateContentCommand?: LifecycleCommand;
  postCreateCommand?: LifecycleCommand;
  postStartCommand?: LifecycleCommand;
  postAttachCommand?: LifecycleCommand;
  waitFor?: string;
  containerEnv?: Record<string, string>;
  /** A `null` value asks for the variable to be unset in the tool's processes. */
  remoteEnv?: Record<string, string | null>;
  remoteUser?: string;
  containerUser?: string;
  forwardPorts?: (number | string)[];
  appPort?: number | string | (number | string)[];
  portsAttributes?: Record<string, PortAttributes>;
  otherPortsAttributes?: PortAttributes;
  features?: Record<string, string | boolean | Record<string, unknown>>;
  overrideFeatureInstallOrder?: string[];
  mounts?: (string | MountObject)[];
  runArgs?: string[];
  privileged?: boolean;
  init?: boolean;
  capAdd?: string[];
  securityOpt?: string[];
  overrideCommand?: boolean;
  shutdownAction?: 'none' | 'stopContainer' | 'stopCompose';
  updateRemoteUserUID?: boolean;
  userEnvProbe?: 'none' | 'loginShell' | 'interactiveShell' | 'loginInteractiveShell';
  hostRequirements?: HostRequirements;
  customizations?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The config file's location, serialised the way the reference serialises its URI. */
export interface ConfigFileUri {
  $mid: 1;
  fsPath: string;
  path: string;
  scheme: 'vscode-fileHost';
}

/** The configuration after substitution and the legacy-field move, with its file recorded. */
export interface DevcontainerConfiguration extends DevcontainerConfig {
  configFilePath: ConfigFileUri;
}

/** Where the workspace lives in the environment and how it gets there. */
export interface WorkspaceConfiguration {
  workspaceFolder?: string;
  workspaceMount?: string;
}

/** The same shape as the reference's `read-configuration` output (less its registry notes). */
export interface ResolvedDevcontainer {
  configuration: DevcontainerConfiguration;
  workspace: WorkspaceConfiguration;
}
