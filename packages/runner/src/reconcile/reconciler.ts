import type { DesiredEnvironment, EnvironmentStatus } from '@hangar/api';
import { noPortsConfig, type PortsConfig } from '../devcontainer/index.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../state-store.js';
import { EnvironmentWorker, type ConvergeDeps } from './converge.js';

interface Slot {
  desired: DesiredEnvironment;
  running: Promise<void> | undefined;
  again: boolean;
  abort: AbortController;
}

/**
 * Level-triggered reconciliation: it holds the latest desired state of every environment and runs
 * at most one worker per environment. A change that arrives while a worker runs aborts it when it
 * is a newer generation, and the worker runs again on the newest spec.
 */
export class Reconciler {
  private readonly slots = new Map<string, Slot>();
  private readonly statuses = new Map<string, EnvironmentStatus>();
  private readonly remoteEnvs = new Map<string, Record<string, string>>();
  private readonly portsConfigs = new Map<string, PortsConfig>();
  private stopping = false;

  constructor(private readonly deps: ConvergeDeps & { store: StateStore; logger: Logger }) {}

  /** Remembers statuses from the last run so they can be reported on the next connection. */
  async restore(): Promise<void> {
    for (const local of await this.deps.store.list()) {
      this.statuses.set(local.desired.id, local.status);
      if (local.remoteEnv) this.remoteEnvs.set(local.desired.id, local.remoteEnv);
      if (local.ports) this.portsConfigs.set(local.desired.id, local.ports);
      this.slots.set(local.desired.id, {
        // State saved before shared ports existed has none: every port is private.
        desired: { ...local.desired, ports: local.desired.ports ?? [] },
        running: undefined,
        again: false,
        abort: new AbortController(),
      });
    }
  }

  /** The full desired set from a new connection; environments not in it are garbage. */
  replaceAll(environments: DesiredEnvironment[]): void {
    const wanted = new Set(environments.map((environment) => environment.id));
    for (const [id, slot] of this.slots) {
      if (!wanted.has(id)) {
        this.deps.logger.warn(
          { environmentId: id },
          'the control plane no longer knows it; deleting',
        );
        this.update({
          ...slot.desired,
          generation: slot.desired.generation + 1,
          spec: { ...slot.desired.spec, desiredPhase: 'deleted' },
        });
      }
    }
    for (const environment of environments) this.update(environment);
  }

  update(desired: DesiredEnvironment): void {
    const slot = this.slots.get(desired.id);
    if (slot && slot.desired.generation > desired.generation) return;
    if (!slot) {
      this.slots.set(desired.id, {
        desired,
        running: undefined,
        again: false,
        abort: new AbortController(),
      });
    } else {
      const newer = desired.generation > slot.desired.generation;
      slot.desired = desired;
      if (slot.running) {
        slot.again = true;
        if (newer) slot.abort.abort();
      }
    }
    this.kick(desired.id);
  }

  report(id: string, status: EnvironmentStatus): void {
    this.statuses.set(id, status);
    this.deps.report(id, status);
  }

  /** devcontainer `remoteEnv` of the environment, for the commands the gateway runs. */
  remoteEnvOf(id: string): Record<string, string> {
    return this.remoteEnvs.get(id) ?? {};
  }

  /** devcontainer `forwardPorts` and `portsAttributes` of the environment, for its port list. */
  portsConfigOf(id: string): PortsConfig {
    return this.portsConfigs.get(id) ?? noPortsConfig;
  }

  statusOf(id: string): EnvironmentStatus | undefined {
    return this.statuses.get(id);
  }

  allStatuses(): [string, EnvironmentStatus][] {
    return [...this.statuses.entries()];
  }

  desiredOf(id: string): DesiredEnvironment | undefined {
    return this.slots.get(id)?.desired;
  }

  /** Waits for every worker to finish its current step, starting no new ones. */
  async drain(): Promise<void> {
    this.stopping = true;
    await this.idle();
  }

  /** Resolves once no worker runs for the environment: for tests and shutdown. */
  async idle(id?: string): Promise<void> {
    for (;;) {
      const pending: Promise<void>[] = [];
      for (const [slotId, slot] of this.slots) {
        if ((id === undefined || slotId === id) && slot.running) pending.push(slot.running);
      }
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  private kick(id: string): void {
    const slot = this.slots.get(id);
    if (!slot || slot.running || this.stopping) return;
    slot.running = this.loop(id, slot).finally(() => {
      slot.running = undefined;
      if (
        slot.desired.spec.desiredPhase === 'deleted' &&
        this.statuses.get(id)?.phase === 'deleted'
      ) {
        this.slots.delete(id);
      }
    });
  }

  private async loop(id: string, slot: Slot): Promise<void> {
    do {
      slot.again = false;
      slot.abort = new AbortController();
      const deps = {
        ...this.deps,
        report: (envId: string, s: EnvironmentStatus) => this.report(envId, s),
        remember: (envId: string, env: Record<string, string>) => this.remoteEnvs.set(envId, env),
        rememberPorts: (envId: string, ports: PortsConfig) => this.portsConfigs.set(envId, ports),
      };
      const worker = new EnvironmentWorker(deps, slot.desired, slot.abort.signal);
      try {
        await worker.run();
      } catch (error) {
        this.deps.logger.error({ environmentId: id, err: error }, 'worker crashed');
      }
    } while (slot.again && !this.stopping);
  }
}
