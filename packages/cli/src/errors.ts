import { HangarError, type FieldError } from '@hangar/api/errors.js';

/** A command line the CLI cannot run as written: exits 2 and shows the command's usage. */
export class UsageError extends HangarError {
  /** The command whose usage line to show, such as `env create`; the overview when absent. */
  readonly commandPath: string | undefined;

  constructor(message: string, options: { commandPath?: string; fields?: FieldError[] } = {}) {
    super('invalid_request', message, options.fields ? { fields: options.fields } : {});
    this.name = 'UsageError';
    this.commandPath = options.commandPath;
  }
}

/** Any thrown value as a HangarError: unexpected ones become `internal`, keeping the cause. */
export function asHangarError(error: unknown): HangarError {
  if (error instanceof HangarError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HangarError('internal', `unexpected failure: ${message}`, { cause: error });
}

/** The request id an error body carried, kept in `details` by the HTTP client. */
export function requestIdOf(error: HangarError): string | undefined {
  const value = error.details?.requestId;
  return typeof value === 'string' ? value : undefined;
}
