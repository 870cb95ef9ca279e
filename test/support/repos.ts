import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { makeRepo, type MakeRepoOptions } from '@hangar/runner/git/testing/index.js';

/** A real git repository under `dir`, readable by the sandbox user who clones it. */
export async function repository(dir: string, name: string, options: MakeRepoOptions) {
  const made = await makeRepo(join(dir, name), options);
  await chmod(made.dir, 0o755);
  return made;
}

export function devcontainer(config: Record<string, unknown>): string {
  return `// written by the test\n${JSON.stringify(config, null, 2)}\n`;
}
