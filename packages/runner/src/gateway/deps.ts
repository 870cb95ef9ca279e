import type { DesiredEnvironment } from '@hangar/api';
import type { AgentTaskManager } from '../agents/manager.js';
import type { AuditDraft } from '../audit-queue.js';
import type { PortsConfig } from '../devcontainer/index.js';
import type { RunnerIdentity } from '../identity.js';
import type { Logger } from '../logger.js';
import type { EnvdClient } from '../providers/provider.js';
import type { Masker } from '../secrets/masker.js';
import type { ActivityTracker } from '../sessions/activity.js';
import type { SessionRegistry } from '../sessions/registry.js';
import type { StateStore } from '../state-store.js';

/** What the gateway needs from the rest of the runner. */
export interface GatewayDeps {
  identity: () => RunnerIdentity;
  /** Queues an audit record for the control plane; rejects when it cannot be written. */
  audit: { append(draft: AuditDraft): Promise<unknown> };
  store: StateStore;
  logger: Logger;
  /** The running environment's envd, or a `environment_not_running` error. */
  envd: (environmentId: string) => Promise<EnvdClient>;
  /** Appends the full command text to the runner's local command log; rejects if it cannot. */
  logCommand: (entry: Record<string, unknown>) => Promise<void>;
  /** devcontainer `remoteEnv`: the variables every command runs with, under the request's own. */
  remoteEnv: (environmentId: string) => Record<string, string>;
  /** The workspace folder inside the environment, for relative paths and default cwd. */
  workspaceFolder: (environmentId: string) => string | undefined;
  /** Live sessions: audited at start and end, ended when access goes away. */
  sessions: SessionRegistry;
  /** Input, exec, port traffic and file writes mark the environment active. */
  activity: ActivityTracker;
  /** What the control plane wants of the environment (owner, org, port shares), if it is here. */
  desired: (environmentId: string) => DesiredEnvironment | undefined;
  /** devcontainer `forwardPorts` and `portsAttributes`, for the port list. */
  portsConfig: (environmentId: string) => PortsConfig;
  /** How long a terminal with no client attached keeps running (envd `unattachedGraceMs`). */
  terminalGraceMs: number;
  /** Masks the environment's secret values, for output a client asked to have masked. */
  maskerOf?: (environmentId: string) => Masker;
  /**
   * The origins whose pages may call the gateway from a browser (the dashboard): the control
   * plane's, and the one it names in its welcome.
   */
  dashboardOrigins?: () => readonly string[];
  /** The agent tasks of this runner: their prompt and transcript routes. */
  agents?: AgentTaskManager;
}
