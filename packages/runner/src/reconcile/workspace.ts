import { readdir, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
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

export function credentialFor(config: RunnerConfig, url: string): GitCredential | undefined {
  let host: string;
  let protocol: string;
  try {
    ({ host, protocol } = new URL(url));
  } catch {
    return undefined;
  }
  const match = config.gitCredentials.find(
    (item) => item.host === host && `${item.protocol ?? 'https'}:` === protocol,
  );
  if (!match) return undefined;
  return match.username
    ? { username: match.username, password: match.password }
    : { password: match.password };
}

function localPathOf(url: string): string | undefined {
  if (url.startsWith('/')) return url;
  if (url.toLowerCase().startsWith('file://')) {
    try {
      return decodeURIComponent(new URL(url).pathname);
    } catch {
      return url.slice('file://'.length);
    }
  }
  return undefined;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A clone by path reads the runner host as the sandbox user, so it is allowed only from the
 * folders the runner's configuration names, and never from the runner's own data directory
 * (which holds every other environment's workspace).
 */
async function checkLocalRepository(url: string, config: RunnerConfig): Promise<void> {
  const path = localPathOf(url);
  if (path === undefined) return;
  const real = await realpath(path).catch(() => resolve(path));
  const dataDir = await realpath(config.dataDir).catch(() => resolve(config.dataDir));
  const refuse = (why: string) =>
    new HangarError('forbidden', `cloning ${url} is refused: ${why}`, {
      details: { reason: 'LocalRepositoryRefused', step: 'clone' },
    });
  if (isInside(dataDir, real)) {
    throw refuse("it is inside this runner's data directory");
  }
  if (!config.localRepositoryRoots.some((root) => isInside(resolve(root), real))) {
    throw refuse(
      'this runner clones local paths only from the folders in its localRepositoryRoots ' +
        'setting; use a git URL, or ask the runner operator to allow the folder',
    );
  }
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
  /** From the environment's `git` secrets: used before the runner's configured credentials. */
  gitCredential?: GitCredential;
  /** Where git's private HOME and credential file go (a memory file system); else tmpdir. */
  gitHome?: string;
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
  await checkLocalRepository(repository.url, config);
  const asRoot = process.getuid?.() === 0;
  const credential = options.gitCredential ?? credentialFor(config, repository.url);
  const result = await cloneRepository({
    url: repository.url,
    ...(repository.ref ? { ref: repository.ref } : {}),
    destination,
    ...(credential ? { credential } : {}),
    ...(asRoot ? { runAs: { uid: config.sandboxUid, gid: config.sandboxGid } } : {}),
    timeoutMs: config.cloneTimeoutMs,
    ...(options.gitHome ? { privateDir: options.gitHome } : {}),
    logger: options.logger,
    signal: options.signal,
  });
  if (options.signal.aborted) throw new HangarError('conflict', 'the clone was cancelled');
  return result.commit ? { commit: result.commit } : {};
}
