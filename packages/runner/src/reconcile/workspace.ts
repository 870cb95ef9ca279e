import { readdir } from 'node:fs/promises';
import { HangarError, repositoryBaseName, type DesiredEnvironment } from '@hangar/api';
import type { RunnerConfig } from '../config.js';
import { cloneRepository, type GitCredential } from '../git/index.js';
import type { Logger } from '../logger.js';
import type { StateStore } from '../state-store.js';

/** The folder name the workspace gets inside the environment: `/workspaces/<name>`. */
export function workspaceFolderName(desired: DesiredEnvironment): string {
  const url = desired.spec.repository?.url;
  return url ? repositoryBaseName(url) : desired.name;
}

function credentialFor(config: RunnerConfig, url: string): GitCredential | undefined {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return undefined;
  }
  const match = config.gitCredentials.find((item) => item.host === host);
  if (!match) return undefined;
  return match.username
    ? { username: match.username, password: match.password }
    : { password: match.password };
}

/**
 * Makes the workspace volume: a clone of the repository at its ref, or an empty folder. A folder
 * left by a runner killed mid-clone is removed first, so the step can always be retried.
 */
export async function prepareWorkspace(options: {
  desired: DesiredEnvironment;
  store: StateStore;
  config: RunnerConfig;
  logger: Logger;
  signal: AbortSignal;
}): Promise<{ commit?: string }> {
  const { desired, store, config } = options;
  const destination = store.workspaceDir(desired.id);
  const leftover = await readdir(destination).catch(() => undefined);
  if (leftover !== undefined) await store.removeWorkspace(desired.id);
  await store.ensureDir(desired.id);
  const repository = desired.spec.repository;
  if (!repository) {
    await store.makeEmptyWorkspace(desired.id);
    return {};
  }
  const asRoot = process.getuid?.() === 0;
  const credential = credentialFor(config, repository.url);
  const result = await cloneRepository({
    url: repository.url,
    ...(repository.ref ? { ref: repository.ref } : {}),
    destination,
    ...(credential ? { credential } : {}),
    ...(asRoot ? { runAs: { uid: config.sandboxUid, gid: config.sandboxGid } } : {}),
    timeoutMs: config.cloneTimeoutMs,
    logger: options.logger,
    signal: options.signal,
  });
  if (options.signal.aborted) throw new HangarError('conflict', 'the clone was cancelled');
  return result.commit ? { commit: result.commit } : {};
}
