import {
  HangarError,
  newId,
  type Condition,
  type DesiredEnvironment,
  type X25519KeyPair,
} from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { GitCredential } from '../git/index.js';
import type { Logger } from '../logger.js';
import type { SandboxSpec } from '../providers/provider.js';
import { hostUserFor } from '../providers/sandbox/prepare.js';
import { homeFolder } from '../providers/sandbox/layout.js';
import { memoryFileProblem } from '../providers/sandbox/spec-check.js';
import { gitCredentialFile, gitCredentialForClone, gitCredentialPath } from './git-delivery.js';
import type { MemoryDir, MemoryFile } from './memory-dir.js';
import {
  openEnvironmentSecrets,
  secretLabel,
  type OpenedSecret,
  type RefusedSecret,
} from './open.js';
import type { SecretStore } from './store.js';
import type { SecretVersions } from './versions.js';

/** The failure reason of a secret that opened but cannot be delivered where it asks to be. */
export const secretUndeliverableReason = 'secret_undeliverable';

/** The runner's folder inside every sandbox: no secret file goes there. */
const runnerFolder = '/run/hangar';

/** The condition type that says whether every secret of the environment was delivered. */
export const secretsDeliveredCondition = 'SecretsDelivered';

function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

function versionLabel(secret: Pick<OpenedSecret, 'scope' | 'scopeId' | 'name' | 'version'>) {
  return `${secretLabel(secret)}@v${secret.version}`;
}

/** `SecretsDelivered` false naming the refused secrets and why, or undefined when none was. */
function deliveryCondition(refused: readonly RefusedSecret[]): Condition | undefined {
  if (refused.length === 0) return undefined;
  const each = refused.map(({ secret, why }) => `${versionLabel(secret)}: ${why}`).join('; ');
  return {
    type: secretsDeliveredCondition,
    status: 'false',
    reason: secretUndeliverableReason,
    message: `not delivered (the environment runs without them): ${each}`.slice(0, 2000),
  };
}

/**
 * The `SecretsDelivered` condition to set after a start: the refusal, if any; else `true` when
 * an earlier start left a refusal (so it clears); else none (most environments never show one).
 */
export function secretsConditionAfter(
  refused: Condition | undefined,
  conditions: readonly Condition[],
): Condition[] {
  if (refused) return [refused];
  const earlier = conditions.find((item) => item.type === secretsDeliveredCondition);
  if (!earlier || earlier.status === 'true') return [];
  return [
    {
      type: secretsDeliveredCondition,
      status: 'true',
      reason: 'delivered',
      message: 'every secret of the environment was delivered',
    },
  ];
}

function undeliverable(secret: OpenedSecret, why: string): HangarError {
  return new HangarError(
    'invalid_request',
    `the secret ${secretLabel(secret)} cannot be delivered: ${why}`,
    { details: { reason: secretUndeliverableReason, step: 'secrets', secret: secret.name } },
  );
}

/**
 * Opens an environment's secrets when it starts, hands them to it (variables, files from
 * memory, git credentials), and forgets them when it stops. Values stay in {@link SecretStore}
 * and, for files, in the runner's memory folder; neither the state store nor a disk sees one.
 */
export class SecretDelivery {
  constructor(
    private readonly options: {
      runnerId: string;
      key: X25519KeyPair;
      store: SecretStore;
      /** The highest version opened of each secret: an older one is refused. */
      versions: SecretVersions;
      memory: MemoryDir | undefined;
      audit: { append(draft: AuditDraft): Promise<unknown> };
      logger: Logger;
    },
  ) {}

  get store(): SecretStore {
    return this.options.store;
  }

  /**
   * Opens the environment's secrets unless they are held already (a start resumed after a
   * runner restart opens them again), and audits `environment.secrets.deliver` with their
   * names, scopes and versions. A secret refused by scope, target, value or version (older than
   * one this runner opened) is not delivered: it is audited with outcome `denied`, logged by
   * name, and the returned condition names it. Fails with reason `secret_unreadable` naming a
   * secret that does not open.
   */
  async open(desired: DesiredEnvironment): Promise<Condition | undefined> {
    const { store, runnerId, key, versions } = this.options;
    if (store.holds(desired.id)) return undefined;
    const screened = openEnvironmentSecrets({ desired, runnerId, key });
    const refused = [...screened.refused];
    const secrets: OpenedSecret[] = [];
    for (const secret of screened.opened) {
      const older = versions.problem(desired.orgId, secret);
      if (older === undefined) secrets.push(secret);
      else {
        secret.value.fill(0);
        refused.push({ secret, why: older });
      }
    }
    await this.auditRefused(desired, refused);
    await versions.record(desired.orgId, secrets);
    if (secrets.length > 0) await this.auditDelivered(desired, secrets);
    for (const short of store.hold(desired.id, secrets)) {
      this.options.logger.warn(
        { environmentId: desired.id, secret: secretLabel(short) },
        'a secret value shorter than 4 characters is not masked in output and logs',
      );
    }
    if (secrets.length > 0) {
      this.options.logger.info(
        { environmentId: desired.id, secrets: secrets.map(versionLabel) },
        'secrets opened for the environment',
      );
    }
    return deliveryCondition(refused);
  }

  private async auditDelivered(desired: DesiredEnvironment, secrets: OpenedSecret[]) {
    await this.options.audit.append({
      actor: { kind: 'runner', id: this.options.runnerId },
      action: 'environment.secrets.deliver',
      target: { kind: 'environment', id: desired.id },
      outcome: 'success',
      requestId: newId('req'),
      sourceAddress: '',
      details: {
        secrets: secrets.map(versionLabel).join(', '),
        count: secrets.length,
        deliveries: [...new Set(secrets.map((secret) => secret.delivery))].sort().join(','),
      },
    });
  }

  /** One `denied` record and one warning per refused secret: its name and why, no value. */
  private async auditRefused(desired: DesiredEnvironment, refused: readonly RefusedSecret[]) {
    for (const { secret, why } of refused) {
      this.options.logger.warn(
        { environmentId: desired.id, secret: versionLabel(secret), reason: why },
        'secret refused: not delivered to the environment',
      );
      await this.options.audit.append({
        actor: { kind: 'runner', id: this.options.runnerId },
        action: 'environment.secrets.deliver',
        target: { kind: 'environment', id: desired.id },
        outcome: 'denied',
        requestId: newId('req'),
        sourceAddress: '',
        details: {
          secrets: versionLabel(secret),
          reason: secretUndeliverableReason,
          why,
        },
      });
    }
  }

  /** The credential of a `git` secret for the clone of `url`, tried before the runner's own. */
  gitCredential(environmentId: string, url: string): GitCredential | undefined {
    return gitCredentialForClone(this.options.store.secretsOf(environmentId), url);
  }

  /**
   * Where clones keep their private git HOME and credential file: the runner's memory folder,
   * so a password never touches a disk; undefined without one (the system's temporary folder).
   */
  async gitSessionDir(): Promise<string | undefined> {
    return this.options.memory?.folder('git');
  }

  /** The variables every process of the environment gets from its secrets. */
  env(environmentId: string): Record<string, string> {
    return this.options.store.envOf(environmentId);
  }

  /**
   * Writes the environment's `file` secrets and its git credential files into the runner's
   * memory folder and returns them as the sandbox's memory files. Call only before a sandbox
   * boot: rewriting a file a running sandbox has mounted would unmount it there.
   */
  async files(spec: SandboxSpec): Promise<MemoryFile[]> {
    const secrets = this.options.store.secretsOf(spec.environmentId);
    const where = { workspaceFolder: spec.workspaceFolder, home: homeFolder(spec.user.name) };
    const wanted: Array<{ dest: string; data: Buffer }> = [];
    for (const [index, secret] of secrets.filter((item) => item.delivery === 'git').entries()) {
      const data = gitCredentialFile(secret);
      if (!data) {
        throw undeliverable(secret, 'its target must be [user@]host[:port] and its value one line');
      }
      wanted.push({ dest: gitCredentialPath(index), data });
    }
    // The git credential files and everything else under /run/hangar are the runner's own.
    const taken = new Set(wanted.map((item) => item.dest));
    for (const secret of secrets.filter((item) => item.delivery === 'file')) {
      const problem = memoryFileProblem(secret.target, where);
      if (problem) throw undeliverable(secret, `its file path ${problem}`);
      if (taken.has(secret.target) || isUnder(secret.target, runnerFolder)) {
        throw undeliverable(secret, `${secret.target} is taken by the runner or another secret`);
      }
      taken.add(secret.target);
      wanted.push({ dest: secret.target, data: secret.value });
    }
    const { memory } = this.options;
    if (wanted.length === 0) {
      await memory?.removeEnvironment(spec.environmentId);
      return [];
    }
    if (!memory) {
      const first = secrets.find((item) => item.delivery !== 'env');
      throw undeliverable(
        first ?? (secrets[0] as OpenedSecret),
        'this runner has no memory file system (/dev/shm or $XDG_RUNTIME_DIR) to keep files on',
      );
    }
    const owner = process.getuid?.() === 0 ? hostUserFor(spec) : undefined;
    return memory.writeEnvironmentFiles(spec.environmentId, wanted, owner);
  }

  /** Forgets the environment's values and removes its files: after its sandbox stopped. */
  async forget(environmentId: string): Promise<void> {
    const held = this.options.store.holds(environmentId);
    this.options.store.forget(environmentId);
    await this.options.memory?.removeEnvironment(environmentId);
    if (held) this.options.logger.debug({ environmentId }, 'secrets forgotten');
  }
}
