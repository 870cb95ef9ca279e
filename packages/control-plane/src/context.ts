import type { DesiredAgentTask, DesiredEnvironment, RevokeMessage } from '@hangar/api';
import type { AuditLog } from './audit/audit-log.js';
import type { ControlPlaneConfig } from './config.js';
import type { Logger } from './logger.js';
import type { DataKey } from './oidc/data-key.js';
import type { SigningKey } from './signing-key.js';
import type { Database } from './storage/database.js';
import type { StatusChanges } from './services/status-changes.js';

/** How the API tells a connected runner that a spec changed, or that sessions must end. */
export interface RunnerNotifier {
  push(runnerId: string, environment: DesiredEnvironment): void;
  /** Asks the runner to end live sessions of an environment, of an actor, or both. */
  revoke(runnerId: string, revoke: Omit<RevokeMessage, 'type'>): void;
  isConnected(runnerId: string): boolean;
  /** Sends an agent task (on create, and on stop) to its runner, if connected. */
  pushAgentTask(runnerId: string, task: DesiredAgentTask): void;
}

/** Everything a route or service needs, built once at start-up. */
export interface Context {
  config: ControlPlaneConfig;
  db: Database;
  audit: AuditLog;
  signingKey: SigningKey;
  /** Seals what is kept but never stored in clear, such as OIDC client secrets. */
  dataKey: DataKey;
  logger: Logger;
  runners: RunnerNotifier;
  statusChanges: StatusChanges;
}

/** Who asked and from where: copied into every audit record of a request. */
export interface RequestMeta {
  requestId: string;
  sourceAddress: string;
}
