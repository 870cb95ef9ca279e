import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ErrorCode, HangarError } from '@hangar/api';

import { bindCredential } from './credential-helper.js';
import type { GitCredential } from './credential-helper.js';
import { prepareDestination } from './destination.js';
import type { PreparedDestination } from './destination.js';
import { cloneFailureReason, gitFailure, refNotFound, stderrTail } from './errors.js';
import { createDeadline } from './git-process.js';
import type { Deadline, RunAs } from './git-process.js';
import { openGitSession } from './git-session.js';
import type { GitSession } from './git-session.js';
import { silentLogger } from './logger.js';
import type { Logger } from './logger.js';
import { checkRefName, parseLsRemote, resolveRef } from './refs.js';
import type { ResolvedRef } from './refs.js';
import { maskSecrets, parseRepositoryUrl } from './url.js';
import type { RepositoryUrl } from './url.js';

export interface CloneOptions {
  /** Any address git accepts: http(s), ssh (URL or `user@host:path`), git://, file://, a path. */
  url: string;
  /** A branch (slashes allowed), tag, full ref name or commit id; the default branch if absent. */
  ref?: string;
  /** Absolute path that must not exist or be an empty directory. */
  destination: string;
  /** For http(s) only; from the runner's own configuration. Never logged or stored. */
  credential?: GitCredential;
  /** Run git as this user (the runner must be root); the clone is then owned by it. */
  runAs?: RunAs;
  /** For the whole clone; when reached, git is killed and the destination left untouched. */
  timeoutMs: number;
  /**
   * The folder git's private HOME (and its credential file) is made in: a memory file system,
   * so the password touches no disk. The system's temporary folder when absent.
   */
  privateDir?: string;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface CloneResult {
  /** The checked-out commit; null only for an empty repository cloned without a ref. */
  commit: string | null;
  /** `refs/heads/<branch>`, `refs/tags/<tag>`, another advertised ref, or the commit id. */
  ref: string;
  refKind: 'branch' | 'tag' | 'commit';
  /** The remote's default branch, when the remote says which it is. */
  defaultBranch?: string;
  /** The repository address as stored in `.git/config`: without any password. */
  url: string;
}

interface CloneContext {
  repo: RepositoryUrl;
  ref: string | undefined;
  session: GitSession;
  deadline: Deadline;
  secrets: string[];
}

/**
 * Clones a repository with the git binary and checks out `ref`. On success the destination
 * holds the clone and nothing else; on any failure it is as it was before (absent or empty),
 * so a retry starts clean. Errors are HangarErrors whose `details.reason` is a
 * `CloneFailureReason`, whose messages name the repository without a password and mask every
 * secret.
 */
export async function cloneRepository(options: CloneOptions): Promise<CloneResult> {
  const logger = options.logger ?? silentLogger;
  const startedAtMs = Date.now();
  const secrets = [options.credential?.password ?? ''];
  let url = maskSecrets(options.url, secrets);
  try {
    const repo = parseRepositoryUrl(options.url);
    url = repo.url;
    if (repo.embedded?.password) secrets.push(repo.embedded.password);
    if (options.ref !== undefined) checkRefName(options.ref);
    const deadline = createDeadline(options.timeoutMs, options.signal);
    const credential = bindCredential(repo, options.credential);
    const runAs = effectiveRunAs(options.runAs);
    logger.info(
      { url, ref: options.ref, destination: options.destination, uid: runAs?.uid },
      'cloning repository',
    );

    const session = await openGitSession({
      ...(runAs ? { runAs } : {}),
      ...(options.privateDir ? { privateDir: options.privateDir } : {}),
      ...(credential ? { credential } : {}),
      trustForeignRepositories: runAs !== undefined && repo.localPath !== undefined,
    });
    try {
      const context: CloneContext = { repo, ref: options.ref, session, deadline, secrets };
      const destination = await prepareDestination({
        destination: options.destination,
        ...(runAs ? { runAs } : {}),
      });
      const result = await cloneInto(context, destination);
      logger.info(
        { url, ref: result.ref, commit: result.commit, durationMs: Date.now() - startedAtMs },
        'cloned repository',
      );
      return result;
    } finally {
      await session.close();
    }
  } catch (error: unknown) {
    const message = maskSecrets(error instanceof Error ? error.message : String(error), secrets);
    logger.warn(
      { url, ref: options.ref, reason: cloneFailureReason(error), error: message },
      'clone failed',
    );
    throw error;
  }
}

/** The runAs to pass to spawn: none when git would run as the current user anyway. */
function effectiveRunAs(runAs: RunAs | undefined): RunAs | undefined {
  if (!runAs) return undefined;
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === runAs.uid && gid === runAs.gid) return undefined;
  if (uid !== 0) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `git can run as uid ${runAs.uid} only when the runner runs as root (it runs as uid ` +
        `${String(uid)}); run the runner as root or leave runAs out`,
      { details: { reason: 'run_as_refused' } },
    );
  }
  return runAs;
}

async function cloneInto(
  context: CloneContext,
  destination: PreparedDestination,
): Promise<CloneResult> {
  try {
    const advertised = await listRefs(context);
    const resolved = resolveRef(context.ref, advertised);
    if (!resolved) throw refNotFound({ ref: context.ref ?? '', url: context.repo.url });
    await runStep(context, 'clone', cloneArgs(context, resolved, destination.cloneDir));
    const checkedOut = await checkOut(context, resolved, destination.cloneDir);
    await assertNoSecretStored(destination.cloneDir, context);
    await destination.commit();
    return {
      ...checkedOut,
      url: context.repo.url,
      ...(advertised.defaultBranch ? { defaultBranch: advertised.defaultBranch } : {}),
    };
  } catch (error: unknown) {
    await destination.discard();
    throw error;
  }
}

async function listRefs(context: CloneContext): Promise<ReturnType<typeof parseLsRemote>> {
  const stdout = await runStep(context, 'ls-remote', [
    'ls-remote',
    '--symref',
    '--',
    context.repo.url,
  ]);
  return parseLsRemote(stdout);
}

/**
 * The `git clone` arguments. The URL is the password-free one and comes after `--`; the branch
 * or tag is attached with `=` so it cannot be read as an option; `--no-local` makes a local
 * clone copy objects instead of hard-linking files the sandbox user could then reach.
 */
export function cloneArgs(
  context: Pick<CloneContext, 'repo'>,
  resolved: ResolvedRef,
  dir: string,
): string[] {
  const args = ['clone', '--quiet', '--no-local', '--template='];
  if (resolved.kind === 'branch' || resolved.kind === 'tag') args.push(`--branch=${resolved.name}`);
  if (resolved.kind === 'commit') args.push('--no-checkout');
  args.push('--', context.repo.url, dir);
  return args;
}

async function checkOut(
  context: CloneContext,
  resolved: ResolvedRef,
  dir: string,
): Promise<Omit<CloneResult, 'url' | 'defaultBranch'>> {
  if (resolved.kind === 'commit') {
    const commit = await findCommit(context, resolved, dir);
    await runStep(context, 'checkout', ['checkout', '--quiet', '--detach', commit], dir);
    const ref = resolved.fullName ?? commit;
    return { commit, ref, refKind: ref.startsWith('refs/tags/') ? 'tag' : 'commit' };
  }
  const commit = await headCommit(context, dir);
  if (resolved.kind !== 'default')
    return { commit, ref: resolved.fullName, refKind: resolved.kind };
  const head = await context.session.run(['symbolic-ref', '--quiet', 'HEAD'], {
    cwd: dir,
    deadline: context.deadline,
  });
  const ref = head.exitCode === 0 ? head.stdout.trim() : (commit ?? 'HEAD');
  return { commit, ref, refKind: ref.startsWith('refs/heads/') ? 'branch' : 'commit' };
}

/**
 * Resolves a commit id in the fresh clone. A full id (or another advertised ref) that no branch
 * or tag reaches is fetched by itself, which servers allow for advertised refs and, when they
 * are so configured, for any reachable commit.
 */
async function findCommit(
  context: CloneContext,
  resolved: Extract<ResolvedRef, { kind: 'commit' }>,
  dir: string,
): Promise<string> {
  const found = await verifyCommit(context, resolved.spec, dir);
  if (found) return found;
  if (resolved.fetchRef !== undefined) {
    const fetched = await context.session.run(
      ['fetch', '--quiet', 'origin', '--', resolved.fetchRef],
      { cwd: dir, deadline: context.deadline },
    );
    if (fetched.timedOut || fetched.aborted) throw stepFailure(context, 'fetch', fetched);
    const afterFetch = await verifyCommit(context, resolved.spec, dir);
    if (afterFetch) return afterFetch;
  }
  throw refNotFound({
    ref: context.ref ?? resolved.spec,
    url: context.repo.url,
    detail: 'no branch or tag of the repository reaches a commit with that id',
  });
}

async function verifyCommit(
  context: CloneContext,
  spec: string,
  dir: string,
): Promise<string | undefined> {
  const result = await context.session.run(
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${spec}^{commit}`],
    { cwd: dir, deadline: context.deadline },
  );
  if (result.timedOut || result.aborted) throw stepFailure(context, 'inspect', result);
  if (/ambiguous/i.test(result.stderr)) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `the abbreviated commit id "${spec}" matches several objects in ${context.repo.url}; ` +
        `give more digits (${stderrTail(result.stderr, context.secrets, 1)})`,
      { details: { reason: 'invalid_ref' } },
    );
  }
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

async function headCommit(context: CloneContext, dir: string): Promise<string | null> {
  const result = await context.session.run(['rev-parse', '--verify', '--quiet', 'HEAD'], {
    cwd: dir,
    deadline: context.deadline,
  });
  if (result.timedOut || result.aborted) throw stepFailure(context, 'inspect', result);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

type Step = Parameters<typeof gitFailure>[0]['step'];

async function runStep(
  context: CloneContext,
  step: Step,
  args: string[],
  cwd?: string,
): Promise<string> {
  const result = await context.session.run(args, {
    deadline: context.deadline,
    ...(cwd ? { cwd } : {}),
  });
  if (result.exitCode !== 0 || result.timedOut || result.aborted) {
    throw stepFailure(context, step, result);
  }
  return result.stdout;
}

function stepFailure(
  context: CloneContext,
  step: Step,
  result: Awaited<ReturnType<GitSession['run']>>,
): HangarError {
  return gitFailure({
    step,
    url: context.repo.url,
    result,
    timeoutMs: context.deadline.timeoutMs,
    secrets: context.secrets,
  });
}

/**
 * The clone was given a password-free URL, so `.git/config` cannot hold a password; this check
 * makes that a guarantee rather than an assumption, and fails the clone if it ever did.
 */
async function assertNoSecretStored(dir: string, context: CloneContext): Promise<void> {
  const config = await readFile(join(dir, '.git', 'config'), 'utf8');
  const leaked = context.secrets.some((secret) => secret.length > 0 && config.includes(secret));
  if (leaked) {
    throw new HangarError(
      ErrorCode.internal,
      `the clone of ${context.repo.url} stored a credential in .git/config and was removed`,
      { details: { reason: 'git_failed' } },
    );
  }
}
