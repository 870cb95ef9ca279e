import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fingerprint,
  HangarError,
  type DesiredEnvironment,
  type EnvironmentStatus,
} from '@hangar/api';
import { AgentTaskManager } from './agents/manager.js';
import { AuditQueue, type AuditDraft } from './audit-queue.js';
import { resolveRunnerConfig, type RunnerConfig } from './config.js';
import { ControlPlaneConnection } from './connection/connection.js';
import { EgressService } from './egress/service.js';
import { startGateway } from './gateway/server.js';
import type { GatewayDeps } from './gateway/deps.js';
import { enroll, loadIdentity, type RunnerIdentity } from './identity.js';
import { createRunnerLogger, type Logger } from './logger.js';
import type { Provider } from './providers/provider.js';
import { SandboxProvider } from './providers/sandbox/sandbox-provider.js';
import { Reconciler } from './reconcile/reconciler.js';
import { SecretDelivery } from './secrets/delivery.js';
import { loadEncryptionKey } from './secrets/encryption-key.js';
import { maskingLogger } from './secrets/log-masking.js';
import { maskDeep } from './secrets/mask-deep.js';
import { MemoryDir } from './secrets/memory-dir.js';
import { SecretStore } from './secrets/store.js';
import { SecretVersions } from './secrets/versions.js';
import { StateStore } from './state-store.js';
import { ActivityTracker } from './sessions/activity.js';
import { SessionRegistry } from './sessions/registry.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadHostKey } from './ssh/host-key.js';
import { startSshServer, type RunningSshServer } from './ssh/server.js';

function gatewayListenError(error: unknown, config: RunnerConfig): HangarError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const address = `${config.gatewayHost}:${config.gatewayPort}`;
  if (code === 'EADDRINUSE') {
    return new HangarError(
      'conflict',
      `the gateway address ${address} is already in use (another runner?); pass --gateway-port ` +
        'with a free port, or 0 for any; this runner stays enrolled, so just start it again',
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new HangarError(
      'invalid_request',
      `the gateway cannot listen on ${address} (${code}); pick another --gateway-host or --gateway-port`,
      { cause: error },
    );
  }
  return undefined;
}

function sshListenError(error: unknown, config: RunnerConfig): HangarError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const address = `${config.sshHost}:${config.sshPort}`;
  if (code === 'EADDRINUSE') {
    return new HangarError(
      'conflict',
      `the SSH gateway address ${address} is already in use; pass --ssh-port with a free port, ` +
        'or 0 for any',
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new HangarError(
      'invalid_request',
      `the SSH gateway cannot listen on ${address} (${code}); pick another --ssh-host or --ssh-port`,
      { cause: error },
    );
  }
  return undefined;
}

export interface RunningRunner {
  runnerId: string;
  gatewayUrl: string;
  reconciler: Reconciler;
  connection: ControlPlaneConnection;
  gatewayRoutes: Awaited<ReturnType<typeof startGateway>>['routes'];
  /** The SSH gateway: what clients dial and the host keys they pin. */
  ssh: { address: string; port: number; hostKeys: string[] };
  /** The fingerprint of the key secrets are sealed to, for people to compare. */
  encryptionKeyFingerprint: string;
  /** The secret values opened for environments here (memory only): for tests that check it. */
  secrets: SecretStore;
  /** Every environment's egress proxy and rules; agent tasks set theirs here. */
  egress: EgressService;
  /** The agent tasks of this runner. */
  agents: AgentTaskManager;
  close(): Promise<void>;
}

type RunnerInput = Parameters<typeof resolveRunnerConfig>[0];

async function identityFor(config: RunnerConfig, logger: Logger): Promise<RunnerIdentity> {
  const existing = await loadIdentity(config.dataDir);
  if (existing) {
    if (config.enrollmentToken) logger.info('already enrolled; the enrollment token is not needed');
    return { ...existing, controlPlaneUrl: config.controlPlaneUrl };
  }
  if (!config.enrollmentToken) {
    throw new HangarError(
      'invalid_request',
      `${config.dataDir} holds no runner identity; pass --enroll TOKEN from \`hangar runner create\``,
      { fields: [{ field: 'enroll', message: 'is required for the first start' }] },
    );
  }
  return enroll({
    dataDir: config.dataDir,
    controlPlaneUrl: config.controlPlaneUrl,
    enrollmentToken: config.enrollmentToken,
  });
}

/**
 * Starts a runner: enrolls on first start, serves the gateway, restores what it knew, and dials
 * the control plane, reconnecting for as long as it runs. Environments keep running and stay
 * reachable through the gateway while the control plane is away.
 */
export async function startRunner(
  input: RunnerInput,
  options: { logger?: Logger; provider?: Provider } = {},
): Promise<RunningRunner> {
  const config = await resolveRunnerConfig(input);
  // Every line the runner logs is masked with the secret values it holds, before it is written.
  const secretStore = new SecretStore();
  const logger = maskingLogger(
    options.logger ?? createRunnerLogger({ level: config.logLevel }),
    () => secretStore.masker(),
  );
  const asRoot = process.getuid?.() === 0;
  const provider =
    options.provider ?? new SandboxProvider({ dataDir: join(config.dataDir, 'sandboxes'), logger });
  await provider.check();
  const lock = await lockDataDir(config.dataDir);
  let identity: RunnerIdentity;
  try {
    identity = await identityFor(config, logger);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const log = logger.child({ runnerId: identity.runnerId });
  const encryptionKey = await loadEncryptionKey(config.dataDir).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  // What an operator compares when `hangar secret set` reports a changed key for this runner.
  const encryptionKeyFingerprint = fingerprint(encryptionKey.publicKey);
  log.info({ encryptionKeyFingerprint }, 'secrets are sealed to this encryption key');
  const versions = await SecretVersions.open(config.dataDir).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  const memory = await MemoryDir.open(config.dataDir).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });
  if (!memory) {
    log.warn(
      'no memory file system (/dev/shm or $XDG_RUNTIME_DIR): file and git secrets cannot be ' +
        'delivered, and clone credentials go through the system temporary folder',
    );
  }
  const store = new StateStore(
    config.dataDir,
    asRoot ? { uid: config.sandboxUid, gid: config.sandboxGid } : undefined,
  );
  await store.init();
  const queue = await AuditQueue.open(config.dataDir);

  let gatewayUrl = '';
  /** Until the first welcome, the control plane the runner dials is the dashboard's origin. */
  let dashboardOrigins: readonly string[] = [new URL(config.controlPlaneUrl).origin];
  const connection = new ControlPlaneConnection({
    identity,
    gatewayUrl: () => gatewayUrl,
    classes: config.classes,
    logger: log,
    ssh: () => ssh && { address: ssh.address, hostKeys: ssh.hostKeys },
    encryptionKey: encryptionKey.publicKey,
  });
  let inFlight = false;
  const flushAudit = () => {
    if (inFlight || !connection.connected || queue.size === 0) return;
    inFlight = connection.send({ type: 'audit', records: queue.pending(500) });
  };
  const audit = {
    append: async (draft: AuditDraft) => {
      const record = await queue.append(maskDeep(draft, secretStore.masker()));
      flushAudit();
      return record;
    },
  };
  // Statuses leave the customer network: masked always, whatever a step put in them.
  const report = (environmentId: string, status: EnvironmentStatus) => {
    const masked = maskDeep(status, secretStore.masker());
    connection.send({ type: 'status', environmentId, status: masked });
  };
  const delivery = new SecretDelivery({
    runnerId: identity.runnerId,
    key: encryptionKey,
    store: secretStore,
    versions,
    memory,
    audit,
    logger: log,
  });

  const reconciler = new Reconciler({
    provider,
    store,
    config,
    logger: log,
    gatewayUrl: () => gatewayUrl,
    report,
    secrets: delivery,
  });
  await reconciler.restore();
  const egress = new EgressService({
    audit,
    logger: log,
    socketPathOf: (environmentId) => provider.egressSocketPath?.(environmentId),
    ...(asRoot ? { sandboxUser: { uid: config.sandboxUid, gid: config.sandboxGid } } : {}),
  });
  const applyEgress = (work: Promise<void>) =>
    work.catch((error: unknown) => log.error({ err: error }, 'applying egress rules failed'));
  for (const [id] of reconciler.allStatuses()) {
    const desired = reconciler.desiredOf(id);
    if (desired) void applyEgress(egress.apply(desired));
  }

  const activity = new ActivityTracker();
  const sessions = new SessionRegistry({
    audit,
    logger: log,
    onActivity: (environmentId) => activity.touch(environmentId),
  });
  /** A session lives only while its environment is wanted running. */
  /**
   * A session lives only while its environment is wanted running, and a port connection only
   * under the share levels it was admitted by: when they change, port connections end and
   * their clients are checked again as they reconnect.
   */
  const endSessionsThatLostGround = (desired: DesiredEnvironment) => {
    if (desired.spec.desiredPhase !== 'running') {
      const reason = `the environment is ${desired.spec.desiredPhase === 'deleted' ? 'deleted' : 'stopping'}`;
      sessions.closeWhere({ environmentId: desired.id }, reason);
      return;
    }
    const before = reconciler.desiredOf(desired.id)?.ports ?? [];
    if (JSON.stringify(before) !== JSON.stringify(desired.ports ?? [])) {
      sessions.closeWhere(
        { environmentId: desired.id, kind: 'port' },
        'the port share levels changed',
      );
    }
  };

  // Agent tasks call this runner's own gateway, on loopback, like any client.
  let gatewayLocalUrl = '';
  const agents = new AgentTaskManager({
    dataDir: config.dataDir,
    audit,
    logger: log.child({ component: 'agents' }),
    connection,
    gatewayUrl: () => gatewayLocalUrl,
    environmentRunning: async (environmentId) =>
      reconciler.desiredOf(environmentId)?.spec.desiredPhase === 'running' &&
      (await provider.state(environmentId)) === 'running',
    workspaceFolder: (environmentId) => reconciler.statusOf(environmentId)?.workspaceFolder,
    secretsOf: (environmentId) => secretStore.secretsOf(environmentId),
    maskerOf: (environmentId) => secretStore.maskerOf(environmentId),
    egress: () => egress,
  });
  await agents.restore();

  const commandLog = join(config.dataDir, 'commands.log');
  const deps: GatewayDeps = {
    identity: () => identity,
    audit,
    store,
    logger: log,
    envd: async (environmentId) => {
      const desired = reconciler.desiredOf(environmentId);
      const state = desired ? await provider.state(environmentId) : 'stopped';
      if (!desired || desired.spec.desiredPhase !== 'running' || state !== 'running') {
        throw new HangarError(
          'environment_not_running',
          `environment ${environmentId} is not running on this runner; start it and try again`,
        );
      }
      return provider.connect(environmentId);
    },
    logCommand: (entry) => {
      const line = JSON.stringify(maskDeep(entry, secretStore.masker()));
      return appendFile(commandLog, `${line}\n`, { mode: 0o600 });
    },
    // The environment's secrets over devcontainer remoteEnv; a request's own variables win.
    remoteEnv: (environmentId) => ({
      ...reconciler.remoteEnvOf(environmentId),
      ...delivery.env(environmentId),
    }),
    maskerOf: (environmentId) => secretStore.maskerOf(environmentId),
    workspaceFolder: (environmentId) => reconciler.statusOf(environmentId)?.workspaceFolder,
    sessions,
    activity,
    desired: (environmentId) => reconciler.desiredOf(environmentId),
    portsConfig: (environmentId) => reconciler.portsConfigOf(environmentId),
    terminalGraceMs: config.terminalGraceMs,
    agents,
    dashboardOrigins: () => dashboardOrigins,
  };
  connection.on('welcome', (welcome) => {
    const origins = new Set([new URL(config.controlPlaneUrl).origin]);
    if (welcome.dashboardOrigin) origins.add(welcome.dashboardOrigin);
    dashboardOrigins = [...origins];
  });
  const gateway = await startGateway(deps, {
    host: config.gatewayHost,
    port: config.gatewayPort,
    ...(config.gatewayPublicUrl ? { publicUrl: config.gatewayPublicUrl } : {}),
    ...(config.portsDomain ? { portsDomain: config.portsDomain } : {}),
  }).catch(async (error: unknown) => {
    await lock.release();
    throw gatewayListenError(error, config) ?? error;
  });
  gatewayUrl = gateway.url;
  gatewayLocalUrl = gateway.localUrl;

  // The SSH gateway: one port for every environment, keys decided by the control plane.
  let ssh: RunningSshServer | undefined;
  try {
    ssh = await startSshServer(
      { ...deps, authorize: (request) => connection.authorizeSsh(request) },
      {
        host: config.sshHost,
        port: config.sshPort,
        hostKey: await loadHostKey(config.dataDir),
        ...(config.sshPublicAddress ? { publicAddress: config.sshPublicAddress } : {}),
      },
    );
  } catch (error) {
    await gateway.close();
    await lock.release();
    throw sshListenError(error, config) ?? error;
  }

  connection.on('welcome', (welcome) => {
    void (async () => {
      await queue.acknowledge(welcome.auditAckedSeq);
      inFlight = false;
      for (const [id, status] of reconciler.allStatuses()) report(id, status);
      for (const desired of welcome.environments) endSessionsThatLostGround(desired);
      reconciler.replaceAll(welcome.environments);
      void applyEgress(egress.replaceAll(welcome.environments));
      flushAudit();
    })().catch((error: unknown) => log.error({ err: error }, 'handling the welcome failed'));
  });
  connection.on('environment', (desired) => {
    void applyEgress(egress.apply(desired));
    endSessionsThatLostGround(desired);
    reconciler.update(desired);
  });
  connection.on('welcome', (welcome) => agents.replaceAll(welcome.agentTasks ?? []));
  connection.on('agentTask', (task) => agents.update(task));
  connection.on('auditAck', (seq) => {
    void queue
      .acknowledge(seq)
      .then(() => {
        inFlight = false;
        flushAudit();
      })
      .catch((error: unknown) => log.error({ err: error }, 'acknowledging audit records failed'));
  });
  connection.on('disconnected', () => {
    inFlight = false;
  });

  // Data plane messages: the control plane revokes sessions; the runner reports activity.
  connection.on('revoke', (revoke) => {
    const { environmentId, actorId, reason } = revoke;
    if (environmentId === undefined && actorId === undefined) {
      log.warn('a revoke that names neither an environment nor an actor; ignored');
      return;
    }
    const filter = {
      ...(environmentId !== undefined ? { environmentId } : {}),
      ...(actorId !== undefined ? { actorId } : {}),
    };
    const ended = sessions.closeWhere(filter, reason);
    log.info({ ...filter, ended }, 'sessions revoked by the control plane');
  });
  const sendActivity = (batch: Array<{ environmentId: string; lastActiveAt: string }>) => {
    for (let start = 0; start < batch.length; start += 500) {
      connection.send({ type: 'activity', environments: batch.slice(start, start + 500) });
    }
  };
  // Activity seen while disconnected stays unreported until the next connection.
  const activityTimer = setInterval(() => {
    if (connection.connected) sendActivity(activity.takeUnreported());
  }, 15000);
  activityTimer.unref();
  connection.on('welcome', () => {
    // Every known time again: a report lost with the last connection is made good, and the
    // control plane only ever moves a time forward.
    activity.takeUnreported();
    sendActivity(
      reconciler.allStatuses().flatMap(([environmentId]) => {
        const at = activity.lastActiveAt(environmentId);
        return at ? [{ environmentId, lastActiveAt: at.toISOString() }] : [];
      }),
    );
  });
  connection.start();
  log.info({ gatewayUrl, controlPlaneUrl: config.controlPlaneUrl }, 'runner started');

  return {
    runnerId: identity.runnerId,
    gatewayUrl,
    reconciler,
    connection,
    gatewayRoutes: gateway.routes,
    ssh: { address: ssh.address, port: ssh.port, hostKeys: ssh.hostKeys },
    encryptionKeyFingerprint,
    secrets: secretStore,
    egress,
    agents,
    async close() {
      await agents.close();
      connection.close();
      clearInterval(activityTimer);
      await reconciler.drain();
      if (config.stopEnvironmentsOnExit) {
        for (const [id] of reconciler.allStatuses()) {
          await provider.stop(id).catch(() => undefined);
          await delivery.forget(id).catch(() => undefined);
        }
      }
      await egress.close();
      await ssh?.close();
      await gateway.close();
      await memory?.removeEmptyFolders();
      await lock.release();
      log.info('runner stopped');
    },
  };
}
