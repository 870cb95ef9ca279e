import { createHash, timingSafeEqual } from 'node:crypto';
import { dirname } from 'node:path';
import { egressProxyPort, type Actor, type DesiredEnvironment, type EgressRule } from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';
import type { EgressContext } from './decide.js';
import { EgressProxy, type ProxyLimits } from './proxy.js';
import { systemLookup, type LookupAll } from './resolve.js';
import { compileRule, type CompiledRule } from './rules.js';
import { prepareEgressDir } from './socket-dir.js';

/** Where envd listens inside every sandbox, and what HTTP_PROXY and friends point at. */
export const proxyListenPort = egressProxyPort;
export const proxyUrl = `http://127.0.0.1:${proxyListenPort}`;

/** The variables every process inside gets, so that ordinary tools use the proxy. */
export const proxyEnv: Readonly<Record<string, string>> = {
  HTTP_PROXY: proxyUrl,
  HTTPS_PROXY: proxyUrl,
  http_proxy: proxyUrl,
  https_proxy: proxyUrl,
  NO_PROXY: 'localhost,127.0.0.1,::1',
  no_proxy: 'localhost,127.0.0.1,::1',
};

/** An agent task's rule for its environment, and the proxy credential its commands carry. */
export interface TaskEgress {
  taskId: string;
  ownerId: string;
  rule: EgressRule;
  /** The per-task secret of the proxy URL (`http://agent:<credential>@127.0.0.1:3128`). */
  credential: string;
  /** How denials name the rule; `egress.agents` when absent. */
  policy?: string;
}

interface TaskEntry {
  task: TaskEgress;
  compiled: CompiledRule;
  digest: Buffer;
}

interface EnvironmentEntry {
  desired?: DesiredEnvironment;
  compiled?: CompiledRule;
  tasks: Map<string, TaskEntry>;
  proxy?: Promise<EgressProxy | undefined>;
}

export interface EgressServiceOptions {
  audit: { append(draft: AuditDraft): Promise<unknown> };
  logger: Logger;
  /** The host path of an environment's proxy socket; undefined: it has none (no sandbox). */
  socketPathOf: (environmentId: string) => string | undefined;
  /** The sandbox's user on the host, when the runner is root: it alone may connect. */
  sandboxUser?: { uid: number; gid: number };
  lookup?: LookupAll;
  limits?: Partial<ProxyLimits>;
}

function digestOf(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}

/**
 * How a denial names an environment's class rule.
 * Known gap: the desired state carries the rule but not whether the control plane took it from
 * `egress.classes.<class>` or `egress.default`, so denials say "class small" rather than the
 * exact policy path; a `DesiredEnvironment.egressPolicy` member naming it would close that.
 */
export function classPolicyName(desired: DesiredEnvironment): string {
  return `egress (class ${desired.spec.class})`;
}

/**
 * The egress side of every environment on this runner: a proxy per environment that is wanted
 * running, and the rules it applies. The class rule comes with the desired state; while agent
 * tasks run in an environment, their rules apply instead (every one of them must allow a
 * request). A change applies to the next request at once, and connections that the new rules
 * no longer allow are closed.
 */
export class EgressService {
  private readonly environments = new Map<string, EnvironmentEntry>();
  private readonly lookup: LookupAll;

  constructor(private readonly options: EgressServiceOptions) {
    this.lookup = options.lookup ?? systemLookup;
  }

  /** Takes an environment's new desired state: its rule, and a proxy while it is wanted running. */
  async apply(desired: DesiredEnvironment): Promise<void> {
    const entry = this.entryOf(desired.id);
    entry.desired = desired;
    entry.compiled = desired.egress
      ? compileRule(desired.egress, classPolicyName(desired))
      : undefined;
    if (desired.spec.desiredPhase === 'running') {
      const proxy = await this.ensureProxy(desired.id, entry);
      proxy?.recheck();
    } else {
      await this.closeProxy(entry);
      if (desired.spec.desiredPhase === 'deleted') this.environments.delete(desired.id);
    }
  }

  /** Takes a full desired set (a welcome): environments not in it lose their proxy. */
  async replaceAll(environments: readonly DesiredEnvironment[]): Promise<void> {
    const known = new Set(environments.map((desired) => desired.id));
    for (const [id, entry] of [...this.environments]) {
      if (known.has(id)) continue;
      await this.closeProxy(entry);
      this.environments.delete(id);
    }
    for (const desired of environments) await this.apply(desired);
  }

  /** Applies an agent task's rule to its environment until {@link clearTaskRule}. */
  setTaskRule(environmentId: string, task: TaskEgress): void {
    const entry = this.entryOf(environmentId);
    entry.tasks.set(task.taskId, {
      task,
      compiled: compileRule(task.rule, task.policy ?? 'egress.agents'),
      digest: digestOf(task.credential),
    });
    void entry.proxy?.then((proxy) => proxy?.recheck());
  }

  clearTaskRule(environmentId: string, taskId: string): void {
    const entry = this.environments.get(environmentId);
    if (!entry?.tasks.delete(taskId)) return;
    void entry.proxy?.then((proxy) => proxy?.recheck());
  }

  /** The proxy URL an agent task's commands get, so that their requests name the agent. */
  proxyUrlFor(credential: string): string {
    return `http://agent:${encodeURIComponent(credential)}@127.0.0.1:${proxyListenPort}`;
  }

  /** The rules that apply to the environment now (for tests and status). */
  rulesOf(environmentId: string): CompiledRule[] {
    return this.contextOf(environmentId).rules();
  }

  async close(): Promise<void> {
    for (const entry of this.environments.values()) await this.closeProxy(entry);
    this.environments.clear();
  }

  private entryOf(environmentId: string): EnvironmentEntry {
    let entry = this.environments.get(environmentId);
    if (!entry) {
      entry = { tasks: new Map() };
      this.environments.set(environmentId, entry);
    }
    return entry;
  }

  private contextOf(environmentId: string): EgressContext {
    return {
      environmentId,
      rules: () => {
        const entry = this.environments.get(environmentId);
        if (!entry) return [];
        if (entry.tasks.size > 0) return [...entry.tasks.values()].map((task) => task.compiled);
        return entry.compiled ? [entry.compiled] : [];
      },
      runningTasks: () =>
        [...(this.environments.get(environmentId)?.tasks.values() ?? [])]
          .map(({ task }) => task.taskId)
          .sort(),
      actorFor: (credential): Actor | undefined => {
        const entry = this.environments.get(environmentId);
        const ownerId = entry?.desired?.ownerId;
        if (credential === undefined) {
          return ownerId ? { kind: 'user', id: ownerId } : undefined;
        }
        const digest = digestOf(credential);
        for (const { task, digest: known } of entry?.tasks.values() ?? []) {
          if (timingSafeEqual(known, digest)) {
            return { kind: 'agent', id: task.taskId, onBehalfOf: task.ownerId };
          }
        }
        return undefined;
      },
    };
  }

  private ensureProxy(
    environmentId: string,
    entry: EnvironmentEntry,
  ): Promise<EgressProxy | undefined> {
    entry.proxy ??= this.openProxy(environmentId).catch((error: unknown) => {
      entry.proxy = undefined;
      this.options.logger.error({ err: error, environmentId }, 'the egress proxy cannot listen');
      return undefined;
    });
    return entry.proxy;
  }

  private async openProxy(environmentId: string): Promise<EgressProxy | undefined> {
    const socketPath = this.options.socketPathOf(environmentId);
    if (socketPath === undefined) return undefined;
    prepareEgressDir(dirname(socketPath), this.options.sandboxUser);
    const proxy = await EgressProxy.listen({
      socketPath,
      ...(this.options.sandboxUser ? { socketOwner: this.options.sandboxUser } : {}),
      context: this.contextOf(environmentId),
      audit: this.options.audit,
      logger: this.options.logger.child({ component: 'egress', environmentId }),
      lookup: this.lookup,
      ...(this.options.limits ? { limits: this.options.limits } : {}),
    });
    this.options.logger.debug({ environmentId }, 'egress proxy listening');
    return proxy;
  }

  private async closeProxy(entry: EnvironmentEntry): Promise<void> {
    const pending = entry.proxy;
    entry.proxy = undefined;
    const proxy = await pending;
    await proxy?.close();
  }
}
