import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runner } from '@hangar/api';
import type { HttpClient } from '../http-client.js';
import type { Output } from '../output.js';

export const localRunnerName = 'local';

/** The file `@hangar/runner` keeps its key pair and runner id in, inside its data directory. */
const identityFile = 'runner-identity.json';

export async function hasRunnerIdentity(runnerDir: string): Promise<boolean> {
  try {
    await access(join(runnerDir, identityFile));
    return true;
  } catch {
    return false;
  }
}

interface CreatedRunner {
  runner: Runner;
  enrollmentToken: string;
}

/**
 * Creates the record of this home's runner: `local`, or `local-2`, `local-3`… when a record
 * named `local` exists but the runner's identity in the data directory is gone (it was removed,
 * or an earlier first start failed before enrolling), since an enrollment token is shown once.
 */
// Known gap: every failed first start leaves one pending record behind (`local`, `local-2`, …);
// the API has no call to issue a new enrollment token for an existing record, which would
// let `hangar up` reuse it.
export async function createLocalRunnerRecord(
  api: HttpClient,
  out: Output,
  runnerDir: string,
): Promise<CreatedRunner> {
  const { runners } = await api.get<{ runners: Runner[] }>('/v1/runners');
  const taken = new Set(runners.map((runner) => runner.name));
  let name = localRunnerName;
  for (let suffix = 2; taken.has(name); suffix += 1) name = `${localRunnerName}-${suffix}`;
  if (name !== localRunnerName) {
    out.warn(
      `a runner named ${localRunnerName} exists, but ${runnerDir} holds no runner identity; ` +
        `enrolling a new runner named ${name}`,
    );
  }
  return api.post<CreatedRunner>('/v1/runners', { name });
}
