import { chown, lstat, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

import { ErrorCode, HangarError } from '@hangar/api';

import type { RunAs } from './git-process.js';

/** Where a clone is built and how it is put in place or taken away. */
export interface PreparedDestination {
  /** The directory git clones into: a sibling of the destination, or the destination itself. */
  readonly cloneDir: string;
  /** Puts the finished clone at the destination. */
  commit(): Promise<void>;
  /** Removes everything this clone created, so that a retry starts clean. */
  discard(): Promise<void>;
}

function conflict(message: string): HangarError {
  return new HangarError(ErrorCode.conflict, message, {
    details: { reason: 'destination_not_empty' },
  });
}

/**
 * The name of the directory a clone is built in before it is renamed onto the destination. A
 * runner killed mid-clone leaves it behind; the next clone to the same destination removes it.
 */
export function partialDirOf(destination: string): string {
  return join(dirname(destination), `.${basename(destination)}.hangar-partial`);
}

/**
 * Checks that the destination is absent or an empty directory and prepares the directory git
 * will clone into, owned by `runAs` when given. When the destination and its parent are on the
 * same file system the clone is built in a sibling directory and renamed into place at the end,
 * so the destination is either untouched or complete even if the runner dies mid-clone. When
 * the destination is a mount point, the clone is built in it directly.
 */
export async function prepareDestination(options: {
  destination: string;
  runAs?: RunAs;
}): Promise<PreparedDestination> {
  const { runAs } = options;
  if (!isAbsolute(options.destination)) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `the clone destination "${options.destination}" must be an absolute path`,
      { details: { reason: 'destination_unusable' } },
    );
  }
  const destination = resolve(options.destination);
  const existing = await inspect(destination);
  const parent = dirname(destination);
  const createdTop = existing ? undefined : await mkdir(parent, { recursive: true });
  const removeCreatedParents = (): Promise<void> => removeEmptyUpTo(parent, createdTop);

  try {
    if (runAs) await checkSearchable(parent, runAs);
    if (existing && existing.dev !== (await stat(parent)).dev) {
      if (runAs) await chown(destination, runAs.uid, runAs.gid);
      return {
        cloneDir: destination,
        commit: () => Promise.resolve(),
        discard: () => emptyDirectory(destination),
      };
    }
    const partial = partialDirOf(destination);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { mode: 0o755 });
    if (runAs) await chown(partial, runAs.uid, runAs.gid);
    return {
      cloneDir: partial,
      commit: async () => {
        try {
          await rename(partial, destination);
        } catch (error: unknown) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
            throw conflict(
              `the clone destination ${destination} was filled by something else while the ` +
                'clone ran; empty it and retry',
            );
          }
          throw error;
        }
      },
      discard: async () => {
        await rm(partial, { recursive: true, force: true });
        await removeCreatedParents();
      },
    };
  } catch (error: unknown) {
    await removeCreatedParents();
    throw error;
  }
}

/** Returns the destination's stats when it is an empty directory, undefined when it is absent. */
async function inspect(destination: string): Promise<Stats | undefined> {
  let stats: Stats;
  try {
    stats = await lstat(destination);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (stats.isSymbolicLink()) {
    throw conflict(
      `the clone destination ${destination} is a symbolic link; give the real directory`,
    );
  }
  if (!stats.isDirectory()) {
    throw conflict(`the clone destination ${destination} exists and is not a directory`);
  }
  const entries = await readdir(destination);
  if (entries.length > 0) {
    throw conflict(
      `the clone destination ${destination} is not empty (${entries.length} entries); ` +
        'remove its contents or choose an empty directory, then retry',
    );
  }
  return stats;
}

/** Fails with a clear message when `runAs` cannot reach `dir` through every directory above it. */
async function checkSearchable(dir: string, runAs: RunAs): Promise<void> {
  if (runAs.uid === 0) return;
  for (let current = dir; ; current = dirname(current)) {
    const stats = await stat(current);
    const bit = stats.uid === runAs.uid ? 0o100 : stats.gid === runAs.gid ? 0o010 : 0o001;
    if ((stats.mode & bit) === 0) {
      throw new HangarError(
        ErrorCode.conflict,
        `uid ${runAs.uid} cannot enter ${current} (mode ${(stats.mode & 0o777).toString(8)}, ` +
          `owner ${stats.uid}:${stats.gid}), so git cannot write the clone below it; make it ` +
          'searchable by that user (chmod o+x) or choose another destination',
        { details: { reason: 'destination_unusable' } },
      );
    }
    if (dirname(current) === current) return;
  }
}

async function emptyDirectory(dir: string): Promise<void> {
  const entries = await readdir(dir);
  await Promise.all(entries.map((name) => rm(join(dir, name), { recursive: true, force: true })));
}

/** Removes the directories `mkdir -p` created, deepest first, stopping at any that is not empty. */
async function removeEmptyUpTo(deepest: string, createdTop: string | undefined): Promise<void> {
  if (createdTop === undefined) return;
  for (let current = deepest; current.startsWith(createdTop); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === createdTop) return;
  }
}
