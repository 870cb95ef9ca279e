import type { ErrorCode } from '@hangar/api';

/**
 * An error envd reports to its client as an `error` frame. The code is one of `@hangar/api`'s
 * stable codes; the runner rebuilds a `HangarError` from it. (envd imports only Node built-ins at
 * run time, so it cannot use `HangarError` itself.)
 */
export class EnvdError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'EnvdError';
    this.code = code;
  }
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code: unknown = error.code;
  return typeof code === 'string' ? code : undefined;
}

export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = errnoCode(error);
  return code !== undefined && codes.includes(code);
}

/** Turns a file-system failure on `path` (as the client wrote it) into an error it can act on. */
export function fileError(error: unknown, path: string): EnvdError {
  if (error instanceof EnvdError) return error;
  switch (errnoCode(error)) {
    case 'ENOENT':
      return new EnvdError('not_found', `${path}: no such file or directory in the environment`);
    case 'EACCES':
    case 'EPERM':
      return new EnvdError('forbidden', `${path}: permission denied for the environment's user`);
    case 'EROFS':
      return new EnvdError('forbidden', `${path}: the file system there is read-only`);
    case 'EISDIR':
      return new EnvdError('invalid_request', `${path} is a directory; list it instead`);
    case 'ENOTDIR':
      return new EnvdError(
        'invalid_request',
        `${path}: a component of the path is not a directory`,
      );
    case 'ELOOP':
      return new EnvdError(
        'invalid_request',
        `${path}: too many symbolic links, or a link changed while it was opened; retry`,
      );
    case 'ENXIO':
      return new EnvdError('invalid_request', `${path} is not a regular file`);
    case 'ENAMETOOLONG':
      return new EnvdError('invalid_request', `${path}: the path is too long`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new EnvdError('internal', `${path}: no space left in the environment's volume`);
    default: {
      const detail = error instanceof Error ? error.message : String(error);
      return new EnvdError('internal', `${path}: ${detail}`);
    }
  }
}
