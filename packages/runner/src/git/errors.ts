import { ErrorCode, HangarError } from '@hangar/api';

import type { GitRunResult } from './git-process.js';
import { maskSecrets } from './url.js';

/**
 * Why a clone failed, in `HangarError.details.reason`, so callers can decide what to retry
 * (`repository_unavailable`, `timeout` may pass; the others need a change to the request).
 */
export type CloneFailureReason =
  | 'invalid_url'
  | 'protocol_refused'
  | 'invalid_ref'
  | 'invalid_credential'
  | 'destination_not_empty'
  | 'destination_unusable'
  | 'run_as_refused'
  | 'repository_unavailable'
  | 'authentication_failed'
  | 'ref_not_found'
  | 'timeout'
  | 'aborted'
  | 'git_unavailable'
  | 'git_failed';

/** The reason stored on a HangarError thrown by this module, if any. */
export function cloneFailureReason(error: unknown): CloneFailureReason | undefined {
  if (!(error instanceof HangarError)) return undefined;
  const reason = error.details?.['reason'];
  return typeof reason === 'string' ? (reason as CloneFailureReason) : undefined;
}

function fail(code: ErrorCode, reason: CloneFailureReason, message: string): HangarError {
  return new HangarError(code, message, { details: { reason } });
}

// Lines git adds to every remote failure; they say nothing about this one.
const genericPattern =
  /^(please make sure you have the correct access rights|and the repository exists)/i;

/** The last lines git wrote to stderr, hints dropped, secrets masked, on one line. */
export function stderrTail(stderr: string, secrets: readonly string[], lineCount = 4): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('hint:') && !genericPattern.test(line));
  const tail = lines.slice(-lineCount).join('; ');
  return maskSecrets(tail.length > 0 ? tail : 'git printed no reason', secrets);
}

const authenticationPattern = new RegExp(
  [
    'authentication failed',
    'could not read (username|password)',
    'terminal prompts disabled',
    'invalid username or password',
    'access denied',
    'permission denied \\(publickey',
    'http basic',
  ].join('|'),
  'i',
);
const protocolPattern = /transport '[^']*' not allowed/i;

/**
 * Turns a failed git run into a HangarError that names the step, the repository (already
 * password-free) and git's own reason, with every secret masked.
 */
export function gitFailure(options: {
  step: 'ls-remote' | 'clone' | 'fetch' | 'checkout' | 'inspect';
  url: string;
  result: GitRunResult;
  timeoutMs: number;
  secrets: readonly string[];
}): HangarError {
  const { step, url, result } = options;
  if (result.aborted) {
    return fail(ErrorCode.internal, 'aborted', `the clone of ${url} was cancelled during ${step}`);
  }
  if (result.timedOut) {
    return fail(
      ErrorCode.internal,
      'timeout',
      `the clone of ${url} did not finish within ${options.timeoutMs} ms and git was stopped ` +
        `during ${step}; check that the runner can reach the repository, or raise the timeout`,
    );
  }
  const reason = stderrTail(result.stderr, options.secrets);
  if (protocolPattern.test(result.stderr)) {
    return fail(
      ErrorCode.invalidRequest,
      'protocol_refused',
      `git refused the transport of ${url}: ${reason}; use an http, https, ssh, git or file URL`,
    );
  }
  if (authenticationPattern.test(result.stderr)) {
    return fail(
      ErrorCode.forbidden,
      'authentication_failed',
      `git could not authenticate to ${url}: ${reason}; check the credential the runner has ` +
        'for this repository',
    );
  }
  if (step === 'ls-remote') {
    return fail(
      ErrorCode.notFound,
      'repository_unavailable',
      `the repository ${url} could not be read: ${reason}; check the URL and that the runner ` +
        'can reach it',
    );
  }
  return fail(
    ErrorCode.internal,
    'git_failed',
    `git ${step} failed for ${url} (exit code ${String(result.exitCode)}): ${reason}`,
  );
}

/** The error for a ref that names no branch, tag or reachable commit of the repository. */
export function refNotFound(options: { ref: string; url: string; detail?: string }): HangarError {
  const detail = options.detail ?? 'no branch, tag or commit has that name';
  return fail(
    ErrorCode.notFound,
    'ref_not_found',
    `the ref "${options.ref}" does not exist in ${options.url}: ${detail}; list the repository's ` +
      `branches and tags with \`git ls-remote ${options.url}\``,
  );
}
