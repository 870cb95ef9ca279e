import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import { validator, type DesiredSecret } from '@hangar/api';

const VersionsFile = Type.Object(
  { versions: Type.Record(Type.String(), Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

const checkFile = validator(VersionsFile, 'secret versions file');

type Versioned = Pick<DesiredSecret, 'scope' | 'scopeId' | 'name' | 'version'>;

export function secretVersionsPath(dataDir: string): string {
  return join(dataDir, 'secret-versions.json');
}

/**
 * The highest version of each secret (by organization, scope, scope id and name) this runner has
 * opened, kept in `secret-versions.json` in its data directory so it survives restarts. A lower
 * version offered later is an old ciphertext played back (a secret rolled back to a value it was
 * rotated away from), and is refused. The file holds names and numbers, never a value.
 */
export class SecretVersions {
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly path: string | undefined,
    private readonly versions: Map<string, number>,
  ) {}

  /** Reads the file, or starts empty when there is none yet. */
  static async open(dataDir: string): Promise<SecretVersions> {
    const path = secretVersionsPath(dataDir);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new SecretVersions(path, new Map());
    }
    const file = checkFile(JSON.parse(text));
    return new SecretVersions(path, new Map(Object.entries(file.versions)));
  }

  /** Versions kept in memory only: for tests. */
  static inMemory(): SecretVersions {
    return new SecretVersions(undefined, new Map());
  }

  private static key(orgId: string, secret: Versioned): string {
    return JSON.stringify([orgId, secret.scope, secret.scopeId, secret.name]);
  }

  /** The highest version opened of this secret, or 0. */
  highest(orgId: string, secret: Versioned): number {
    return this.versions.get(SecretVersions.key(orgId, secret)) ?? 0;
  }

  /** Why this version is refused (an older one than was opened already), or undefined. */
  problem(orgId: string, secret: Versioned): string | undefined {
    const highest = this.highest(orgId, secret);
    if (secret.version >= highest) return undefined;
    return (
      `its version ${secret.version} is older than version ${highest}, which this runner ` +
      'opened already (an old ciphertext played back); set the secret again'
    );
  }

  /** Remembers the versions opened, writing the file (atomically) when one went up. */
  async record(orgId: string, secrets: readonly Versioned[]): Promise<void> {
    let changed = false;
    for (const secret of secrets) {
      const key = SecretVersions.key(orgId, secret);
      if ((this.versions.get(key) ?? 0) >= secret.version) continue;
      this.versions.set(key, secret.version);
      changed = true;
    }
    if (!changed || this.path === undefined) return;
    const path = this.path;
    const text = JSON.stringify({ versions: Object.fromEntries(this.versions) });
    const write = this.writing.then(async () => {
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, path);
    });
    this.writing = write.catch(() => undefined);
    await write;
  }
}
