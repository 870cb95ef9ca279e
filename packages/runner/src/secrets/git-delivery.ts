import type { GitCredential } from '../git/index.js';
import { parseRepositoryUrl } from '../git/index.js';
import type { OpenedSecret } from './open.js';

/** Where the credential files of `git` secrets appear inside the environment (memory only). */
export const gitCredentialDir = '/run/hangar/git-credentials';

const defaultUsername = 'x-access-token';

/** What a `git` secret's target names: the host it is for and the protocols it may go over. */
export interface GitSecretTarget {
  /** `host[:port]`, lower-case, as git's credential protocol names it. */
  host: string;
  username?: string;
  /** https always; plain http too for a loopback host, where nothing crosses a network. */
  protocols: Array<'https' | 'http'>;
}

const targetPattern = /^(?:([^@/:\s]+)@)?([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Reads a `git` secret's target, `[user@]host[:port]`; anything else is undefined. */
export function parseGitTarget(target: string): GitSecretTarget | undefined {
  const match = targetPattern.exec(target);
  if (!match) return undefined;
  const [, username, hostname = '', port = ''] = match;
  const host = hostname.toLowerCase();
  return {
    host: `${host}${port}`,
    protocols: isLoopback(host) ? ['https', 'http'] : ['https'],
    ...(username ? { username: decodeURIComponent(username) } : {}),
  };
}

/** A git credential is one line: a trailing line break (from `echo token |`) is not part of it. */
function passwordOf(secret: OpenedSecret): string {
  return secret.value.toString('utf8').replace(/\r?\n$/, '');
}

/**
 * The credential of the first `git` secret whose target is the repository's protocol and host,
 * for the clone; undefined when none is (the runner's own credentials are tried next).
 */
export function gitCredentialForClone(
  secrets: readonly OpenedSecret[],
  url: string,
): GitCredential | undefined {
  let target: { protocol: string; host: string } | undefined;
  try {
    target = parseRepositoryUrl(url).credentialTarget;
  } catch {
    return undefined;
  }
  if (!target) return undefined;
  for (const secret of secrets) {
    if (secret.delivery !== 'git') continue;
    const parsed = parseGitTarget(secret.target);
    const protocol = target.protocol as 'https' | 'http';
    if (parsed?.protocols.includes(protocol) && parsed.host === target.host.toLowerCase()) {
      return { username: parsed.username ?? defaultUsername, password: passwordOf(secret) };
    }
  }
  return undefined;
}

/** The path of the n-th `git` secret's credential file inside the environment. */
export function gitCredentialPath(index: number): string {
  return `${gitCredentialDir}/${index}`;
}

/** The credential file's text, in git's credential protocol: what the helper prints. */
export function gitCredentialFile(secret: OpenedSecret): Buffer | undefined {
  const target = parseGitTarget(secret.target);
  const password = passwordOf(secret);
  if (!target || /[\r\n\0]/.test(password)) return undefined;
  const username = target.username ?? defaultUsername;
  return Buffer.from(`username=${username}\npassword=${password}\n`);
}

/**
 * Git configuration through the environment (`GIT_CONFIG_COUNT`): for each `git` secret, a
 * credential helper bound to its host that prints the credential file in memory. Nothing is
 * written to the workspace or to ~/.git-credentials, and the variables hold no secret.
 */
export function gitHelperEnv(gitSecrets: readonly OpenedSecret[]): Record<string, string> {
  const env: Record<string, string> = {};
  let count = 0;
  for (const [index, secret] of gitSecrets.entries()) {
    const target = parseGitTarget(secret.target);
    if (!target) continue;
    const helper = `!f() { test "$1" = get && cat ${gitCredentialPath(index)}; }; f`;
    for (const protocol of target.protocols) {
      env[`GIT_CONFIG_KEY_${count}`] = `credential.${protocol}://${target.host}.helper`;
      env[`GIT_CONFIG_VALUE_${count}`] = helper;
      count += 1;
    }
  }
  if (count > 0) env['GIT_CONFIG_COUNT'] = String(count);
  return env;
}
