import { HangarError, newId, type DesiredEnvironment, type X25519KeyPair } from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { GitCredential } from '../git/index.js';
import type { Logger } from '../logger.js';
import type { SandboxSpec } from '../providers/provider.js';
import { hostUserFor } from '../providers/sandbox/prepare.js';
import { homeFolder } from '../providers/sandbox/layout.js';
import { memoryFileProblem } from '../providers/sandbox/spec-check.js';
import { gitCredentialFile, gitCredentialForClone, gitCredentialPath } from './git-delivery.js';
import type { MemoryDir, MemoryFile } from './memory-dir.js';
import { openEnvironmentSecrets, secretLabel, type OpenedSecret } from './open.js';
import type { SecretStore } from './store.js';

/** The failure reason of a secret that opened but cannot be delivered where it asks to be. */
export const secretUndeliverableReason = 'secret_undeliverable';

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
   * names, scopes and versions. Fails with reason `secret_unreadable` naming the secret.
   */
  async open(desired: DesiredEnvironment): Promise<void> {
    const { store, runnerId, key } = this.options;
    if (store.holds(desired.id)) return;
    const secrets = openEnvironmentSecrets({ desired, runnerId, key });
    if (secrets.length === 0) {
      store.hold(desired.id, []);
      return;
    }
    const labels = secrets.map((secret) => `${secretLabel(secret)}@v${secret.version}`);
    await this.options.audit.append({
      actor: { kind: 'runner', id: runnerId },
      action: 'environment.secrets.deliver',
      target: { kind: 'environment', id: desired.id },
      outcome: 'success',
      requestId: newId('req'),
      sourceAddress: '',
      details: {
        secrets: labels.join(', '),
        count: secrets.length,
        deliveries: [...new Set(secrets.map((secret) => secret.delivery))].sort().join(','),
      },
    });
    for (const short of store.hold(desired.id, secrets)) {
      this.options.logger.warn(
        { environmentId: desired.id, secret: secretLabel(short) },
        'a secret value shorter than 4 characters is not masked in output and logs',
      );
    }
    this.options.logger.info(
      { environmentId: desired.id, secrets: labels },
      'secrets opened for the environment',
    );
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
    const taken = new Set<string>();
    for (const secret of secrets.filter((item) => item.delivery === 'file')) {
      const problem = memoryFileProblem(secret.target, where);
      if (problem) throw undeliverable(secret, `its file path ${problem}`);
      if (taken.has(secret.target)) {
        throw undeliverable(secret, `another secret is delivered at ${secret.target} already`);
      }
      taken.add(secret.target);
      wanted.push({ dest: secret.target, data: secret.value });
    }
    for (const [index, secret] of secrets.filter((item) => item.delivery === 'git').entries()) {
      const data = gitCredentialFile(secret);
      if (!data) {
        throw undeliverable(secret, 'its target must be [user@]host[:port] and its value one line');
      }
      wanted.push({ dest: gitCredentialPath(index), data });
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
