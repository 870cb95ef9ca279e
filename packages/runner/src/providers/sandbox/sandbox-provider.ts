import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HangarError, type Condition } from '@hangar/api';
import { ENVD_SECRET_BYTES } from '@hangar/envd/auth.js';
import { pino } from 'pino';
import { createEnvdClient, type EnvdAuth } from './envd-socket-client.js';
import type { Logger } from 'pino';
import type { EnvdClient, Provider, SandboxSpec, SandboxState } from '../provider.js';
import { detectCgroupHost, type CgroupHost } from './cgroup-host.js';
import {
  cgroupDirs,
  createCgroups,
  limitsCondition,
  procsFiles,
  removeCgroups,
  type EnvironmentCgroups,
} from './cgroups.js';
import { checkHostTools, type HostTools } from './host-check.js';
import { launchKeeper, waitForEnvd } from './launch.js';
import { environmentPaths } from './layout.js';
import { prepareSandbox } from './prepare.js';
import { deleteRecord, readRecord, writeRecord, type RunningRecord } from './records.js';
import { checkEnvironmentId, checkSpec } from './spec-check.js';
import { endSandbox, keeperAlive } from './teardown.js';
import { removeTree } from './volume.js';

export interface SandboxProviderOptions {
  /** Where each environment's state lives: `<dataDir>/<environmentId>/`. */
  dataDir: string;
  logger?: Logger;
  /** bubblewrap; found in PATH when absent. */
  bwrapPath?: string;
  /** The Node binary mounted into sandboxes to run envd; this process's own when absent. */
  nodePath?: string;
  /** envd's package directory (with `dist/`); the installed `@hangar/envd` when absent. */
  envdPackageDir?: string;
  /** node-pty's package dir, mounted for envd; the one envd's package resolves when absent. */
  nodePtyDir?: string;
  /** Name of the cgroup under which every environment gets its own; `hangar` when absent. */
  cgroupParent?: string;
  /** How long start() waits for envd to answer; 10 s when absent. */
  startTimeoutMs?: number;
  /** How long stop() lets envd end its commands before killing everything; 2 s when absent. */
  stopGraceMs?: number;
}

/** What envd of a running sandbox must prove; sandboxes started before envd did have none. */
function envdAuth(record: RunningRecord): EnvdAuth {
  if (record.envdSecret === undefined) {
    throw new HangarError(
      'environment_not_running',
      `environment ${record.environmentId} was started by an older runner whose envd cannot ` +
        'prove itself; stop and start the environment',
    );
  }
  return { environmentId: record.environmentId, secret: Buffer.from(record.envdSecret, 'hex') };
}

export function defaultEnvdPackageDir(): string {
  const protocolFile = fileURLToPath(import.meta.resolve('@hangar/envd/protocol.js'));
  return dirname(dirname(realpathSync(protocolFile)));
}

/** Where node-pty's loader looks for its native part, relative to its package directory. */
const nodePtyBinaries = ['build/Release/pty.node', 'build/Debug/pty.node'];

/**
 * node-pty as envd's own package resolves it (envd loads it to open terminals; the sandbox mounts
 * it read-only beside envd). Throws a `HangarError` saying how to install it when it is missing.
 */
export function nodePtyPackageDir(envdPackageDir: string): string {
  let dir: string;
  try {
    const manifest = createRequire(join(envdPackageDir, 'package.json')).resolve(
      'node-pty/package.json',
    );
    dir = dirname(realpathSync(manifest));
  } catch {
    throw new HangarError(
      'internal',
      `node-pty, which envd needs for terminals, is not installed for ${envdPackageDir}; run ` +
        '`npm install` in the Hangar installation and restart the runner',
    );
  }
  const prebuilt = `prebuilds/${process.platform}-${process.arch}/pty.node`;
  if (![...nodePtyBinaries, prebuilt].some((file) => existsSync(join(dir, file)))) {
    throw new HangarError(
      'internal',
      `node-pty at ${dir} has no native build (no build/Release/pty.node); run ` +
        '`npm rebuild node-pty` (it needs a C++ compiler and python3) and restart the runner',
    );
  }
  return dir;
}

/**
 * Environments as bubblewrap sandboxes on this host. A sandbox outlives the runner process; its
 * record in the data dir lets a new provider find it again. Every method is idempotent, and
 * calls for one environment run one at a time.
 */
export class SandboxProvider implements Provider {
  readonly name = 'sandbox';
  private readonly dataDir: string;
  private readonly logger: Logger;
  private readonly nodePath: string;
  private readonly envdPackageDir: string;
  private readonly cgroupParent: string;
  private readonly startTimeoutMs: number;
  private readonly stopGraceMs: number;
  private tools: Promise<HostTools> | undefined;
  private ptyDir: string | undefined;
  private cgroupHost: CgroupHost | undefined;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SandboxProviderOptions) {
    this.dataDir = options.dataDir;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'sandbox' });
    this.nodePath = options.nodePath ?? process.execPath;
    this.envdPackageDir = options.envdPackageDir ?? defaultEnvdPackageDir();
    this.cgroupParent = options.cgroupParent ?? 'hangar';
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.stopGraceMs = options.stopGraceMs ?? 2000;
  }

  async check(): Promise<Condition[]> {
    const tools = await this.hostTools();
    this.nodePtyDir();
    const host = this.cgroups();
    return [
      {
        type: 'SandboxAvailable',
        status: 'true',
        reason: 'Bubblewrap',
        message: `bubblewrap ${tools.bwrapVersion} at ${tools.bwrapPath} can create sandboxes`,
      },
      this.hostLimitsCondition(host),
    ];
  }

  async start(spec: SandboxSpec): Promise<{ conditions: Condition[] }> {
    checkSpec(spec);
    return this.serialized(spec.environmentId, async () => {
      const paths = environmentPaths(this.dataDir, spec.environmentId);
      const existing = readRecord(paths.record);
      if (existing && keeperAlive(existing)) return { conditions: existing.conditions };
      if (existing) await this.end(existing, paths.record);
      const startedAt = performance.now();
      const tools = await this.hostTools();
      const envdSecret = randomBytes(ENVD_SECRET_BYTES).toString('hex');
      const prepared = prepareSandbox({
        dataDir: this.dataDir,
        spec,
        tools,
        nodePath: this.nodePath,
        envdPackageDir: this.envdPackageDir,
        nodePtyDir: this.nodePtyDir(),
        envdSecret,
      });
      const { cgroups, condition } = await this.makeCgroups(spec);
      const record: RunningRecord = {
        version: 1,
        environmentId: spec.environmentId,
        hostUid: prepared.hostUser.uid,
        cgroupDirs: cgroups?.dirs ?? [],
        envdSecret,
        conditions: [condition],
        startedAt: new Date().toISOString(),
      };
      writeRecord(paths.record, record);
      try {
        const keeper = launchKeeper({
          procsFiles: procsFiles(cgroups),
          argsPath: prepared.paths.bwrapArgs,
          command: prepared.command,
          logPath: paths.log,
        });
        record.keeperPid = keeper.pid;
        record.keeperStartTicks = keeper.startTicks;
        writeRecord(paths.record, record);
        await waitForEnvd({
          keeper,
          socketPath: paths.socket,
          auth: { environmentId: spec.environmentId, secret: Buffer.from(envdSecret, 'hex') },
          logPath: paths.log,
          timeoutMs: this.startTimeoutMs,
        });
      } catch (error: unknown) {
        await this.end(record, paths.record);
        this.logger.warn(
          { environmentId: spec.environmentId, err: error, log: paths.log },
          'sandbox failed to start',
        );
        throw error;
      }
      this.logger.info(
        {
          environmentId: spec.environmentId,
          keeperPid: record.keeperPid,
          limits: condition.reason,
          durationMs: Math.round(performance.now() - startedAt),
        },
        'sandbox started',
      );
      return { conditions: record.conditions };
    });
  }

  async state(environmentId: string): Promise<SandboxState> {
    checkEnvironmentId(environmentId);
    const record = readRecord(environmentPaths(this.dataDir, environmentId).record);
    return record && keeperAlive(record) ? 'running' : 'stopped';
  }

  async stop(environmentId: string): Promise<void> {
    checkEnvironmentId(environmentId);
    await this.serialized(environmentId, async () => {
      const paths = environmentPaths(this.dataDir, environmentId);
      const record = readRecord(paths.record);
      if (record) {
        await this.end(record, paths.record);
        this.logger.info({ environmentId }, 'sandbox stopped');
      }
      rmSync(paths.socket, { force: true });
    });
  }

  async remove(environmentId: string): Promise<void> {
    checkEnvironmentId(environmentId);
    await this.serialized(environmentId, async () => {
      const paths = environmentPaths(this.dataDir, environmentId);
      const record = readRecord(paths.record);
      if (record) await this.end(record, paths.record);
      await removeCgroups(cgroupDirs(this.cgroups(), this.cgroupParent, environmentId));
      removeTree(paths.root);
      this.logger.info({ environmentId }, 'sandbox removed');
    });
  }

  async connect(environmentId: string): Promise<EnvdClient> {
    checkEnvironmentId(environmentId);
    const paths = environmentPaths(this.dataDir, environmentId);
    const record = readRecord(paths.record);
    if (!record || !keeperAlive(record)) {
      throw new HangarError(
        'environment_not_running',
        `environment ${environmentId} has no running sandbox; start it first`,
      );
    }
    const client = createEnvdClient({ socketPath: paths.socket, auth: envdAuth(record) });
    try {
      await client.ping();
    } catch (error: unknown) {
      client.close();
      throw error;
    }
    return client;
  }

  /** Where the runner's egress proxy for the environment listens (bound into its sandbox). */
  egressSocketPath(environmentId: string): string {
    checkEnvironmentId(environmentId);
    return environmentPaths(this.dataDir, environmentId).egressSocket;
  }

  /** The environment's cgroups, or the reason it runs without limits (never fatal). */
  private async makeCgroups(spec: SandboxSpec): Promise<{
    cgroups: EnvironmentCgroups | undefined;
    condition: Condition;
  }> {
    const host = this.cgroups();
    const limits = spec.class;
    try {
      const cgroups = await createCgroups({
        host,
        parent: this.cgroupParent,
        environmentId: spec.environmentId,
        limits,
      });
      return { cgroups, condition: limitsCondition({ host, cgroups, limits }) };
    } catch (error: unknown) {
      const detail = error instanceof Error ? error.message : String(error);
      const failure = `creating its cgroups failed (${detail})`;
      this.logger.warn({ environmentId: spec.environmentId, failure }, 'limits not enforced');
      return {
        cgroups: undefined,
        condition: limitsCondition({ host, cgroups: undefined, limits, failure }),
      };
    }
  }

  private async end(record: RunningRecord, recordPath: string): Promise<void> {
    await endSandbox(record, { graceMs: this.stopGraceMs });
    deleteRecord(recordPath);
  }

  private hostLimitsCondition(host: CgroupHost): Condition {
    if (host.version === 'none') {
      return {
        type: 'LimitsEnforced',
        status: 'false',
        reason: 'CgroupsUnavailable',
        message: `class limits cannot be enforced: ${host.reason}`,
      };
    }
    const where = host.version === 'v2' ? host.mount : Object.values(host.mounts).join(', ');
    try {
      for (const mount of host.version === 'v2' ? [host.mount] : Object.values(host.mounts)) {
        mkdirSync(join(mount, this.cgroupParent), { recursive: true });
      }
    } catch (error: unknown) {
      return {
        type: 'LimitsEnforced',
        status: 'false',
        reason: 'CgroupsUnavailable',
        message: `cgroup ${host.version} at ${where} is not writable: ${String(error)}`,
      };
    }
    return {
      type: 'LimitsEnforced',
      status: 'true',
      reason: host.version === 'v2' ? 'CgroupV2' : 'CgroupV1',
      message: `class limits are enforced through cgroup ${host.version} (${where})`,
    };
  }

  private nodePtyDir(): string {
    this.ptyDir ??= this.options.nodePtyDir ?? nodePtyPackageDir(this.envdPackageDir);
    return this.ptyDir;
  }

  private cgroups(): CgroupHost {
    this.cgroupHost ??= detectCgroupHost();
    return this.cgroupHost;
  }

  private hostTools(): Promise<HostTools> {
    if (!this.tools) {
      this.tools = checkHostTools({
        ...(this.options.bwrapPath !== undefined ? { bwrapPath: this.options.bwrapPath } : {}),
        isRoot: process.getuid?.() === 0,
        envdPackageDir: this.envdPackageDir,
      });
      this.tools.catch(() => {
        this.tools = undefined;
      });
    }
    return this.tools;
  }

  /** Runs `task` after every earlier call for the same environment has settled. */
  private serialized<T>(environmentId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(environmentId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.queues.set(environmentId, settled);
    void settled.then(() => {
      if (this.queues.get(environmentId) === settled) this.queues.delete(environmentId);
    });
    return next;
  }
}
