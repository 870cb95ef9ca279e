import { gitHelperEnv } from './git-delivery.js';
import { isMaskable, Masker } from './masker.js';
import type { OpenedSecret } from './open.js';

/** A value, and the value without the line break `echo value |` leaves at its end. */
function maskedValues(secret: OpenedSecret): Buffer[] {
  const text = secret.value.toString('utf8');
  const trimmed = text.replace(/\r?\n$/, '');
  return trimmed === text ? [secret.value] : [secret.value, Buffer.from(trimmed)];
}

/**
 * The opened secret values of every environment that is starting or running on this runner, in
 * memory only: never in the state store, never in a file on the runner's disk. Values are held
 * from an environment's start until it stops, fails or is deleted, so a secret changed on the
 * control plane applies at the next start.
 */
export class SecretStore {
  private readonly held = new Map<string, readonly OpenedSecret[]>();
  private all: Masker | undefined;

  /** Holds the environment's values; returns the ones too short to be masked, to warn of. */
  hold(environmentId: string, secrets: readonly OpenedSecret[]): OpenedSecret[] {
    this.held.set(environmentId, secrets);
    this.all = undefined;
    return secrets.filter((secret) => !isMaskable(secret.value));
  }

  forget(environmentId: string): void {
    if (this.held.delete(environmentId)) this.all = undefined;
  }

  holds(environmentId: string): boolean {
    return this.held.has(environmentId);
  }

  secretsOf(environmentId: string): readonly OpenedSecret[] {
    return this.held.get(environmentId) ?? [];
  }

  /** How many values are held, over every environment: for tests that check a stop forgets. */
  get size(): number {
    let count = 0;
    for (const secrets of this.held.values()) count += secrets.length;
    return count;
  }

  /**
   * The variables every process of the environment gets: each `env` secret under its target
   * name, and the git configuration that points git at the `git` secrets' credential files.
   */
  envOf(environmentId: string): Record<string, string> {
    const secrets = this.secretsOf(environmentId);
    const env: Record<string, string> = {};
    for (const secret of secrets) {
      if (secret.delivery === 'env') env[secret.target] = secret.value.toString('utf8');
    }
    return { ...gitHelperEnv(secrets.filter((secret) => secret.delivery === 'git')), ...env };
  }

  /** Masks every value held for any environment: for logs and reports that leave the runner. */
  masker(): Masker {
    this.all ??= new Masker([...this.held.values()].flat().flatMap(maskedValues));
    return this.all;
  }

  /** Masks the values of one environment: for its output streamed to a client that asked. */
  maskerOf(environmentId: string): Masker {
    const secrets = this.secretsOf(environmentId);
    return secrets.length ? new Masker(secrets.flatMap(maskedValues)) : Masker.none;
  }
}
