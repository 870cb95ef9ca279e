import { ErrorCode, HangarError } from '@hangar/api';

import type { RepositoryUrl } from './url.js';

/** A user name and password (or token) for an http(s) repository, from the runner's config. */
export interface GitCredential {
  /** `x-access-token` when absent and the URL names no user either. */
  username?: string;
  password: string;
}

/** The credential git will be offered, bound to the one protocol and host it is for. */
export interface BoundCredential {
  protocol: string;
  host: string;
  username: string;
  password: string;
}

/** Environment variable that tells the helper where the credential file is; holds a path only. */
export const credentialFileVariable = 'HANGAR_GIT_CREDENTIAL_FILE';

const defaultUsername = 'x-access-token';

/**
 * The `credential.helper` value given to git. It holds no secret: it reads the 0600 file named
 * by {@link credentialFileVariable}, and answers `get` only when git asks for the exact protocol
 * and host written on that file's first two lines, so a redirect to another host never receives
 * the password. Every other action (`store`, `erase`) is ignored.
 *
 * Why this shape: argv is readable by every user through /proc/<pid>/cmdline, and a URL or
 * `.git/config` outlives the clone. A file readable only by the git user, deleted when the clone
 * ends, and named through the environment keeps the secret out of all three.
 */
export const credentialHelperConfig =
  '!f() { test "$1" = get || return 0; p=; h=; ' +
  'while IFS= read -r l; do case "$l" in protocol=*) p="$l";; host=*) h="$l";; esac; done; ' +
  `{ IFS= read -r wp; IFS= read -r wh; } < "$${credentialFileVariable}"; ` +
  `test "$p" = "$wp" && test "$h" = "$wh" && cat "$${credentialFileVariable}"; return 0; }; f`;

/**
 * Picks the credential for a clone: the one from the runner's config first, else user info that
 * was written into the URL. Refuses a credential for a transport that does not use one, and
 * values git's credential protocol cannot carry. Messages never contain the password.
 */
export function bindCredential(
  repo: RepositoryUrl,
  given: GitCredential | undefined,
): BoundCredential | undefined {
  const password = given?.password ?? repo.embedded?.password;
  if (password === undefined) return undefined;
  const target = repo.credentialTarget;
  if (!target) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `a password credential applies to http and https repositories only, not to ${repo.url}; ` +
        'for ssh give the runner an SSH key instead',
      { details: { reason: 'invalid_credential' } },
    );
  }
  const username = given?.username ?? repo.embedded?.username ?? defaultUsername;
  checkValue(username, 'username');
  checkValue(password, 'password');
  if (password.length === 0) {
    throw new HangarError(ErrorCode.invalidRequest, 'the credential password is empty', {
      details: { reason: 'invalid_credential' },
    });
  }
  return { protocol: target.protocol, host: target.host, username, password };
}

function checkValue(value: string, name: string): void {
  if (/[\n\r\0]/.test(value)) {
    throw new HangarError(
      ErrorCode.invalidRequest,
      `the credential ${name} contains a line break or NUL, which git cannot accept; fix it in ` +
        "the runner's configuration",
      { details: { reason: 'invalid_credential' } },
    );
  }
}

/** The file the helper reads: protocol and host first (the helper matches them), then the rest. */
export function formatCredentialFile(credential: BoundCredential): string {
  return (
    `protocol=${credential.protocol}\n` +
    `host=${credential.host}\n` +
    `username=${credential.username}\n` +
    `password=${credential.password}\n`
  );
}
