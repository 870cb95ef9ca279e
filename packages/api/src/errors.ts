/**
 * Stable error codes shared by every part of Hangar. Clients branch on `code`, never on the
 * message. Each code maps to one HTTP status in one place: `statusOf`.
 */
export const ErrorCode = {
  invalidRequest: 'invalid_request',
  unauthenticated: 'unauthenticated',
  tokenExpired: 'token_expired',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  operationInProgress: 'operation_in_progress',
  enrollmentTokenInvalid: 'enrollment_token_invalid',
  runnerUnavailable: 'runner_unavailable',
  unreachable: 'unreachable',
  portClosed: 'port_closed',
  auditUnavailable: 'audit_unavailable',
  pathOutsideEnvironment: 'path_outside_environment',
  environmentNotRunning: 'environment_not_running',
  devcontainerInvalid: 'devcontainer_invalid',
  payloadTooLarge: 'payload_too_large',
  internal: 'internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const statusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  operation_in_progress: 409,
  enrollment_token_invalid: 401,
  runner_unavailable: 503,
  unreachable: 503,
  port_closed: 502,
  audit_unavailable: 503,
  path_outside_environment: 400,
  environment_not_running: 409,
  devcontainer_invalid: 422,
  payload_too_large: 413,
  internal: 500,
};

export function statusOf(code: ErrorCode): number {
  return statusByCode[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in statusByCode;
}

/** One field-level problem: `field` is a JSON pointer-like path such as `spec.repository.url`. */
export interface FieldError {
  field: string;
  message: string;
}

/** The body of every error response from the control plane and the runner gateway. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  fields?: FieldError[];
  /** The organization policy that refused the request, by its field name. */
  policy?: string;
  /** For a secret's version conflict: the version to seal instead. */
  nextVersion?: number;
  /** For a refused token: a sign-in session (sign in again) or an API token (make another). */
  tokenKind?: 'token' | 'session';
}

/** An error that knows its stable code; thrown by servers, rebuilt by clients from a body. */
export class HangarError extends Error {
  readonly code: ErrorCode;
  readonly fields: FieldError[] | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { fields?: FieldError[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HangarError';
    this.code = code;
    this.fields = options.fields;
    this.details = options.details;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export function toErrorBody(error: HangarError, requestId: string): ErrorBody {
  const body: ErrorBody = { code: error.code, message: error.message, requestId };
  if (error.fields && error.fields.length > 0) body.fields = error.fields;
  const policy = error.details?.policy;
  if (typeof policy === 'string') body.policy = policy;
  const nextVersion = error.details?.nextVersion;
  if (typeof nextVersion === 'number') body.nextVersion = nextVersion;
  const tokenKind = error.details?.tokenKind;
  if (tokenKind === 'token' || tokenKind === 'session') body.tokenKind = tokenKind;
  return body;
}
