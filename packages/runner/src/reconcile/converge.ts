import { appendFile } from 'node:fs/promises';
import {
  type HangarError,
  type Condition,
  type DesiredEnvironment,
  type DesiredSecret,
  type EnvironmentStatus,
  type Phase,
  type Step,
} from '@hangar/api';
import type { RunnerConfig } from '../config.js';
import {
  HOOK_RUNS,
  planHooks,
  skippedHostCommand,
  type HookPlan,
  type PortsConfig,
} from '../devcontainer/index.js';
import type { Logger } from '../logger.js';
import type { Provider, SandboxState } from '../providers/provider.js';
import { secretsConditionAfter, type SecretDelivery } from '../secrets/delivery.js';
import { maskDeep } from '../secrets/mask-deep.js';
import { Masker } from '../secrets/masker.js';
import type { LocalEnvironment, StateStore } from '../state-store.js';
import { describeFailure } from './failure.js';
import { runHook } from './lifecycle-runner.js';
import { planSandbox, type SandboxPlan } from './sandbox-plan.js';
import { nextStatus, withCondition, withStep } from './status.js';
import { prepareWorkspace } from './workspace.js';

export interface ConvergeDeps {
  provider: Provider;
  store: StateStore;
  config: RunnerConfig;
  logger: Logger;
  gatewayUrl: () => string;
  /** Persists nothing; tells the control plane (now or on reconnect). */
  report: (environmentId: string, status: EnvironmentStatus) => void;
  /** Tells the runner the variables that commands in the environment run with. */
  remember?: (environmentId: string, remoteEnv: Record<string, string>) => void;
  /** Tells the runner the devcontainer's port settings, for the gateway's port list. */
  rememberPorts?: (environmentId: string, ports: PortsConfig) => void;
  /** Opens, delivers and forgets the environment's secrets; absent: it gets none. */
  secrets?: SecretDelivery;
}

/** One environment's convergence towards its desired phase. Every step is idempotent. */
export class EnvironmentWorker {
  private state!: LocalEnvironment;

  constructor(
    private readonly deps: ConvergeDeps,
    private readonly desired: DesiredEnvironment,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<void> {
    const { store } = this.deps;
    const stored = await store.load(this.desired.id);
    // A change that keeps the generation (shared ports) restarts nothing, but is kept.
    const changed = stored && JSON.stringify(stored.desired) !== JSON.stringify(this.desired);
    this.state = stored ?? freshState(this.desired);
    this.state.desired = this.desired;
    try {
      if (changed) await store.save(this.state);
      if (this.desired.spec.desiredPhase === 'running') await this.ensureRunning();
      else if (this.desired.spec.desiredPhase === 'stopped') await this.ensureStopped();
      else await this.ensureDeleted();
    } catch (error) {
      if (this.signal.aborted) return;
      await this.fail(error);
    }
  }

  private get generation(): number {
    return this.desired.generation;
  }

  private async publish(
    phase: Phase,
    change: Partial<Parameters<typeof nextStatus>[1]> = {},
  ): Promise<void> {
    const next = nextStatus(this.state.status, {
      ...change,
      phase,
      observedGeneration: this.generation,
      gatewayUrl: this.deps.gatewayUrl(),
    });
    this.state.status = maskDeep(next, this.masker());
    await this.deps.store.save(this.state);
    this.deps.report(this.desired.id, this.state.status);
  }

  private async step<T>(name: string, work: () => Promise<T>): Promise<T> {
    const startedAt = new Date().toISOString();
    await this.publish(this.state.status.phase, {
      steps: withStep(this.state.status.steps, { name, state: 'running', startedAt }),
    });
    try {
      const result = await work();
      await this.endStep({ name, state: 'succeeded', startedAt });
      return result;
    } catch (error) {
      const exitCode = (error as HangarError).details?.exitCode;
      await this.endStep({
        name,
        state: 'failed',
        startedAt,
        ...(typeof exitCode === 'number' ? { exitCode } : {}),
      });
      throw error;
    }
  }

  private async endStep(step: Step): Promise<void> {
    const ended: Step = { ...step, finishedAt: new Date().toISOString() };
    await this.publish(this.state.status.phase, {
      steps: withStep(this.state.status.steps, ended),
    });
  }

  /** Masks every value the runner holds (any environment's), for what it writes or reports. */
  private masker(): Masker {
    return this.deps.secrets?.store.masker() ?? Masker.none;
  }

  private isSettled(phase: Phase): boolean {
    const status = this.state.status;
    return status.phase === phase && status.observedGeneration === this.generation;
  }

  private async ensureRunning(): Promise<void> {
    const { provider } = this.deps;
    const failedHere = this.isSettled('failed');
    if (failedHere) return;
    const sandbox = await provider.state(this.desired.id);
    if (this.isSettled('running') && sandbox === 'running') {
      await this.openSecrets(sandbox);
      return;
    }
    await this.publish(this.state.created ? 'starting' : 'creating', { failure: null, steps: [] });
    const secrets = this.deps.secrets;
    const refused = await this.openSecrets(sandbox);
    if (!this.state.prepared) {
      const name = this.desired.spec.repository ? 'clone' : 'workspace';
      const url = this.desired.spec.repository?.url;
      const gitCredential = url ? secrets?.gitCredential(this.desired.id, url) : undefined;
      const gitHome = await secrets?.gitSessionDir();
      const prepared = await this.step(name, () =>
        prepareWorkspace({
          ...this.deps,
          desired: this.desired,
          signal: this.signal,
          ...(gitCredential ? { gitCredential } : {}),
          ...(gitHome ? { gitHome } : {}),
        }),
      );
      this.state.prepared = true;
      if (prepared.commit) this.state.commit = prepared.commit;
      await this.deps.store.save(this.state);
    }
    const plan = await this.step('devcontainer', () =>
      planSandbox({ desired: this.desired, store: this.deps.store, config: this.deps.config }),
    );
    this.state.remoteEnv = plan.remoteEnv;
    this.deps.remember?.(this.desired.id, plan.remoteEnv);
    this.state.ports = plan.ports;
    this.deps.rememberPorts?.(this.desired.id, plan.ports);
    if (sandbox !== 'running') {
      this.state.postStartPending = true;
      await this.deps.store.save(this.state);
      const files = await secrets?.files(plan.spec);
      if (files?.length) plan.spec.memoryFiles = files;
    }
    const started = await this.step('sandbox', () => provider.start(plan.spec));
    let conditions: Condition[] = this.state.status.conditions;
    const delivered = secretsConditionAfter(refused, this.state.status.conditions);
    for (const condition of [...started.conditions, ...plan.conditions, ...delivered]) {
      conditions = withCondition(conditions, condition);
    }
    await this.publish(this.state.status.phase, {
      conditions,
      workspaceFolder: plan.spec.workspaceFolder,
    });
    await this.runHooks(plan);
    if (!this.state.created) this.state.created = true;
    await this.publish('running');
  }

  /**
   * Opens the environment's secrets for a start and remembers which (none, too: a secret set
   * while it runs waits for its next start). Held already: nothing. A runner restarted while
   * the sandbox runs opens again only the ones it started with.
   */
  private async openSecrets(sandbox: SandboxState): Promise<Condition | undefined> {
    const secrets = this.deps.secrets;
    if (!secrets || secrets.store.holds(this.desired.id)) return undefined;
    const wanted = this.desired.secrets ?? [];
    const started = this.state.startedSecrets;
    if (sandbox === 'running') {
      const kept = started ? wanted.filter((item) => started.includes(secretKey(item))) : wanted;
      this.state.startedSecrets = kept.map(secretKey);
      await secrets.open({ ...this.desired, secrets: kept });
      return undefined;
    }
    this.state.startedSecrets = wanted.map(secretKey);
    if (wanted.length === 0) return secrets.open(this.desired);
    return this.step('secrets', () => secrets.open(this.desired));
  }

  private async runHooks(plan: SandboxPlan): Promise<void> {
    if (!plan.config) return;
    const skipped = skippedHostCommand(plan.config);
    if (skipped && !this.state.hooksDone.includes(skipped.hook)) {
      const now = new Date().toISOString();
      await this.endStep({ name: skipped.hook, state: 'skipped', startedAt: now });
      this.state.hooksDone.push(skipped.hook);
    }
    const envd = await this.deps.provider.connect(this.desired.id);
    try {
      const once = planHooks(plan.config, 'create').filter(
        (hook) =>
          hook.hook !== 'initializeCommand' && HOOK_RUNS[hook.hook] === 'oncePerEnvironment',
      );
      for (const hook of once) {
        if (this.state.hooksDone.includes(hook.hook)) continue;
        await this.step(hook.hook, () => this.runOne(envd, hook, plan));
        this.state.hooksDone.push(hook.hook);
        await this.deps.store.save(this.state);
      }
      if (this.state.postStartPending) {
        for (const hook of planHooks(plan.config, 'start')) {
          await this.step(hook.hook, () => this.runOne(envd, hook, plan));
        }
        this.state.postStartPending = false;
        await this.deps.store.save(this.state);
      }
    } finally {
      envd.close();
    }
  }

  private runOne(
    envd: Awaited<ReturnType<Provider['connect']>>,
    hook: HookPlan,
    plan: SandboxPlan,
  ) {
    return runHook({
      envd,
      plan: hook,
      env: { ...plan.remoteEnv, ...this.deps.secrets?.env(this.desired.id) },
      masker: this.masker(),
      cwd: plan.spec.workspaceFolder,
      logPath: this.deps.store.lifecycleLogPath(this.desired.id),
      timeoutMs: this.deps.config.lifecycleTimeoutMs,
      signal: this.signal,
    });
  }

  private async ensureStopped(): Promise<void> {
    const sandbox = await this.deps.provider.state(this.desired.id);
    if (this.isSettled('stopped') && sandbox === 'stopped') return;
    await this.publish('stopping');
    await this.deps.provider.stop(this.desired.id);
    await this.deps.secrets?.forget(this.desired.id);
    await this.publish('stopped');
  }

  private async ensureDeleted(): Promise<void> {
    await this.publish('deleting');
    await this.deps.provider.remove(this.desired.id);
    await this.deps.secrets?.forget(this.desired.id);
    await this.deps.store.remove(this.desired.id);
    this.state.status = nextStatus(this.state.status, {
      phase: 'deleted',
      observedGeneration: this.generation,
    });
    this.deps.report(this.desired.id, this.state.status);
  }

  private async fail(error: unknown): Promise<void> {
    const masker = this.masker();
    const report = describeFailure({
      error,
      desired: this.desired,
      failedStep: this.runningStep(),
      workspaceDir: this.deps.store.workspaceDir(this.desired.id),
    });
    this.deps.logger.warn(
      { environmentId: this.desired.id, reason: report.reason, step: report.step },
      'environment failed',
    );
    await appendFile(
      this.deps.store.lifecycleLogPath(this.desired.id),
      masker.maskText(`[hangar] ${report.step ?? 'environment'} failed: ${report.fullMessage}\n`),
      { mode: 0o600 },
    ).catch(() => undefined);
    if (this.desired.spec.desiredPhase === 'running') {
      await this.deps.provider.stop(this.desired.id).catch(() => undefined);
    }
    await this.deps.secrets?.forget(this.desired.id).catch(() => undefined);
    await this.publish('failed', {
      failure: {
        reason: report.reason,
        message: masker.maskText(report.publicMessage).slice(0, 4000),
        ...(report.step ? { step: report.step } : {}),
        ...(report.exitCode !== undefined ? { exitCode: report.exitCode } : {}),
      },
    });
  }

  private runningStep(): string | undefined {
    return this.state.status.steps.findLast((step) => step.state === 'failed')?.name;
  }
}

function secretKey(secret: Pick<DesiredSecret, 'id' | 'version'>): string {
  return `${secret.id}@v${secret.version}`;
}

export function freshState(desired: DesiredEnvironment): LocalEnvironment {
  return {
    desired,
    status: {
      phase: 'creating',
      observedGeneration: 0,
      conditions: [],
      steps: [],
      phaseChangedAt: new Date().toISOString(),
    },
    prepared: false,
    created: false,
    hooksDone: [],
    postStartPending: false,
  };
}
