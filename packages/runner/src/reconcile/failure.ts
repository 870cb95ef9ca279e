import { relative } from 'node:path';
import { HangarError, type DesiredEnvironment } from '@hangar/api';
import { cloneFailureReason } from '../git/index.js';

export interface FailureReport {
  reason: string;
  step: string | undefined;
  exitCode: number | undefined;
  /** Goes to the control plane: built from the spec and fixed words only, never file text. */
  publicMessage: string;
  /** Stays on the runner, in the lifecycle log: the whole error as it was raised. */
  fullMessage: string;
}

function reasonOf(code: string | undefined, step: string | undefined): string {
  if (code === 'devcontainer_invalid') return 'DevcontainerInvalid';
  if (step === 'clone' || step === 'workspace') return 'CloneFailed';
  if (step === 'sandbox') return 'SandboxFailed';
  return 'Failed';
}

function cloneMessage(error: HangarError, desired: DesiredEnvironment): string {
  const repository = desired.spec.repository;
  const url = repository?.url ?? '(none)';
  const ref = repository?.ref;
  switch (cloneFailureReason(error)) {
    case 'ref_not_found':
      return `the ref ${ref ?? ''} does not exist in ${url}; list refs with git ls-remote`;
    case 'repository_unavailable':
      return `the repository ${url} does not exist or cannot be reached from the runner`;
    case 'authentication_failed':
      return `the runner has no working credential for ${url}; ask its operator to add one`;
    case 'timeout':
      return `cloning ${url} took longer than the runner allows`;
    case 'invalid_ref':
      return `${ref ?? ''} is not a valid git ref`;
    case 'protocol_refused':
    case 'invalid_url':
      return `the runner does not clone ${url}: its form or protocol is not allowed`;
    default:
      return error.details?.['reason'] === 'LocalRepositoryRefused'
        ? error.message
        : `cloning ${url} failed`;
  }
}

function devcontainerMessage(error: HangarError, workspaceDir: string): string {
  const path = error.details?.['path'];
  const line = error.details?.['line'];
  const column = error.details?.['column'];
  const field = error.details?.['field'];
  const where =
    typeof path === 'string'
      ? `${relative(workspaceDir, path) || path}${
          typeof line === 'number' ? ` line ${line}, column ${String(column)}` : ''
        }`
      : 'devcontainer.json';
  const what = typeof field === 'string' ? `its field ${field} is not valid` : 'it is not valid';
  return (
    `${where}: ${what}; fix it in the repository, then delete and re-create the environment ` +
    '(the workspace keeps its clone)'
  );
}

/**
 * Splits a failure into what the control plane may hold and what stays on the runner. Messages
 * raised while reading repository content (git's output, a devcontainer.json parse error, a
 * sandbox error) can quote that content, so the control plane gets a message made of the spec
 * and fixed words, and the whole message goes to the lifecycle log, which the gateway serves.
 */
export function describeFailure(options: {
  error: unknown;
  desired: DesiredEnvironment;
  failedStep: string | undefined;
  workspaceDir: string;
}): FailureReport {
  const { error, desired } = options;
  const hangar = error instanceof HangarError ? error : undefined;
  const details = hangar?.details ?? {};
  const step = typeof details['step'] === 'string' ? details['step'] : options.failedStep;
  const exitCode = typeof details['exitCode'] === 'number' ? details['exitCode'] : undefined;
  // The runner's own reasons are PascalCase; the git module's are snake_case and mean a clone,
  // except the secrets' two, whose messages name the secret and never hold its value.
  const own = details['reason'];
  const secretFailure = own === 'secret_unreadable' || own === 'secret_undeliverable';
  const reason =
    typeof own === 'string' && (/^[A-Z]/.test(own) || secretFailure)
      ? own
      : reasonOf(hangar?.code, step);
  const fullMessage = hangar?.message ?? `unexpected error: ${String(error)}`;
  const logs = `; the details are in its lifecycle log: hangar env logs ${desired.name}`;
  let publicMessage: string;
  if (secretFailure && hangar) {
    publicMessage = hangar.message;
  } else if (reason === 'LifecycleCommandFailed') {
    publicMessage = `${step ?? 'a lifecycle command'} ${
      exitCode !== undefined && exitCode >= 0 ? `exited with code ${exitCode}` : 'failed'
    }; its last output lines are in the lifecycle log: hangar env logs ${desired.name}`;
  } else if (reason === 'DevcontainerInvalid' && hangar) {
    publicMessage = devcontainerMessage(hangar, options.workspaceDir) + logs;
  } else if (reason === 'CloneFailed' || reason === 'LocalRepositoryRefused') {
    publicMessage = (hangar ? cloneMessage(hangar, desired) : 'the clone failed') + logs;
  } else {
    publicMessage = `the ${step ?? 'environment'} step failed${logs}`;
  }
  return { reason, step, exitCode, publicMessage, fullMessage };
}
