import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  credentialFileVariable,
  credentialHelperConfig,
  formatCredentialFile,
} from './credential-helper.js';
import type { BoundCredential } from './credential-helper.js';
import { runGit } from './git-process.js';
import type { Deadline, GitRunResult, RunAs } from './git-process.js';
import { allowedProtocols } from './url.js';

export interface GitSessionOptions {
  runAs?: RunAs;
  credential?: BoundCredential;
  /**
   * Trust repositories owned by another user (`safe.directory=*`). Set only when git runs as
   * the unprivileged `runAs` user and reads a local repository owned by the runner.
   */
  trustForeignRepositories?: boolean;
  /** Where the private HOME is made (a memory file system); the system's tmpdir when absent. */
  privateDir?: string;
}

/** Runs git commands that share one private HOME, one configuration and one credential. */
export interface GitSession {
  /** The private HOME: a cwd every git process can use. */
  readonly home: string;
  run(
    args: readonly string[],
    options: { cwd?: string; deadline: Deadline },
  ): Promise<GitRunResult>;
  /** The full argv git would get for `args`; exposed so tests can check it holds no secret. */
  argv(args: readonly string[]): string[];
  /** The environment every git process gets; holds paths only, never a secret. */
  readonly env: Readonly<Record<string, string>>;
  /** Removes the private HOME and the credential file in it. */
  close(): Promise<void>;
}

/**
 * Options given as `git -c` on every command. None of them holds a secret. They keep the host's
 * hooks and helpers from running and restrict git to the allowed transports; `GIT_ALLOW_PROTOCOL`
 * in the environment says the same for the processes git starts.
 */
function configArgs(credential: BoundCredential | undefined): string[] {
  const settings = [
    'core.hooksPath=/dev/null',
    'core.fsmonitor=false',
    'protocol.allow=never',
    ...allowedProtocols.map((protocol) => `protocol.${protocol}.allow=always`),
    'credential.helper=',
    ...(credential ? [`credential.helper=${credentialHelperConfig}`] : []),
    'transfer.credentialsInUrl=die',
    'submodule.recurse=false',
    'init.defaultBranch=main',
    'advice.detachedHead=false',
  ];
  return settings.flatMap((setting) => ['-c', setting]);
}

/**
 * Creates the private HOME (mode 0700, owned by the git user), writes the credential file there
 * (mode 0600) when there is one, and builds the environment. The host's system and global git
 * configuration are never read.
 */
export async function openGitSession(options: GitSessionOptions): Promise<GitSession> {
  const home = await mkdtemp(join(options.privateDir ?? tmpdir(), 'hangar-git-'));
  try {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      LC_ALL: 'C',
      LANG: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: allowedProtocols.join(':'),
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    };
    if (options.trustForeignRepositories) {
      // Local transports drop `-c` options before starting upload-pack, so this one setting
      // goes through a global configuration file that the session owns.
      const globalConfig = join(home, 'gitconfig');
      await writeFile(globalConfig, '[safe]\n\tdirectory = *\n', { mode: 0o600 });
      env['GIT_CONFIG_GLOBAL'] = globalConfig;
    }
    if (options.credential) {
      const credentialFile = join(home, 'credential');
      await writeFile(credentialFile, formatCredentialFile(options.credential), {
        mode: 0o600,
        flag: 'wx',
      });
      env[credentialFileVariable] = credentialFile;
    }
    if (options.runAs) await chownTree(home, options.runAs);
    return createSession(home, env, options);
  } catch (error: unknown) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

async function chownTree(home: string, runAs: RunAs): Promise<void> {
  await chown(home, runAs.uid, runAs.gid);
  for (const name of ['gitconfig', 'credential']) {
    try {
      await chown(join(home, name), runAs.uid, runAs.gid);
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function createSession(
  home: string,
  env: Record<string, string>,
  options: GitSessionOptions,
): GitSession {
  const prefix = configArgs(options.credential);
  const argv = (args: readonly string[]): string[] => [...prefix, ...args];
  return {
    home,
    env,
    argv,
    run: (args, runOptions) =>
      runGit({
        args: argv(args),
        cwd: runOptions.cwd ?? home,
        env,
        deadline: runOptions.deadline,
        ...(options.runAs ? { runAs: options.runAs } : {}),
      }),
    close: () => rm(home, { recursive: true, force: true }),
  };
}
