import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Files of one commit: path inside the repository → content. */
export type RepoFiles = Record<string, string>;

export interface MakeRepoOptions {
  /** Files of the first commit on the default branch; one `README.md` when absent. */
  files?: RepoFiles;
  /** `main` when absent. */
  defaultBranch?: string;
  /** Branches (slashes allowed), each made from the default branch with one more commit. */
  branches?: Record<string, RepoFiles>;
  /**
   * Tags: name → the branch whose tip it points to (the default branch for `''`). A value
   * `{ target, message }` makes an annotated tag.
   */
  tags?: Record<string, string | { target: string; message: string }>;
  /** Create a repository with no commit at all; every other option is ignored. */
  empty?: boolean;
}

export interface MadeRepo {
  dir: string;
  defaultBranch: string;
  /** The tip commit of every branch, the default branch included. */
  branches: Record<string, string>;
  /** The commit every tag points to (annotated tags peeled). */
  tags: Record<string, string>;
}

/** Environment for test git commands: nothing from the host's git configuration. */
export function testGitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Hangar Test',
    GIT_AUTHOR_EMAIL: 'test@hangar.invalid',
    GIT_COMMITTER_NAME: 'Hangar Test',
    GIT_COMMITTER_EMAIL: 'test@hangar.invalid',
  };
}

/** Runs git in `cwd` for a test and returns its trimmed stdout; throws with stderr on failure. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
    cwd,
    env: testGitEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

async function commitFiles(dir: string, files: RepoFiles, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  await git(dir, ['add', '--all']);
  await git(dir, ['commit', '--quiet', '--allow-empty', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

/**
 * Creates a real git repository with a working tree at `dir` (created if absent): one commit on
 * the default branch, one more commit per extra branch, and the tags asked for.
 */
export async function makeRepo(dir: string, options: MakeRepoOptions = {}): Promise<MadeRepo> {
  const defaultBranch = options.defaultBranch ?? 'main';
  await mkdir(dir, { recursive: true });
  await git(dir, ['init', '--quiet', `--initial-branch=${defaultBranch}`]);
  const made: MadeRepo = { dir, defaultBranch, branches: {}, tags: {} };
  if (options.empty) return made;

  const files = options.files ?? { 'README.md': '# test repository\n' };
  made.branches[defaultBranch] = await commitFiles(dir, files, 'first commit');

  for (const [branch, branchFiles] of Object.entries(options.branches ?? {})) {
    await git(dir, ['checkout', '--quiet', '-b', branch, defaultBranch]);
    made.branches[branch] = await commitFiles(dir, branchFiles, `commit on ${branch}`);
  }
  await git(dir, ['checkout', '--quiet', defaultBranch]);

  for (const [tag, spec] of Object.entries(options.tags ?? {})) {
    const target = typeof spec === 'string' ? spec : spec.target;
    const branch = target === '' ? defaultBranch : target;
    const commit = made.branches[branch];
    if (commit === undefined)
      throw new Error(`makeRepo: tag ${tag} names unknown branch ${branch}`);
    const annotation = typeof spec === 'string' ? [] : ['-a', '-m', spec.message];
    await git(dir, ['tag', ...annotation, tag, commit]);
    made.tags[tag] = commit;
  }
  return made;
}
