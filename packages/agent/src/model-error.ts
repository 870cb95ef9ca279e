/**
 * Why a model request failed. `protocol` and `output_too_large` are the model's own fault (a
 * garbled stream, a reply past the size cap): the loop answers them and goes on. The others end
 * the task: the server is unreachable or refused the request.
 */
export type ModelErrorCode =
  'unreachable' | 'refused' | 'server_error' | 'protocol' | 'output_too_large' | 'aborted';

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly status: number | undefined;

  constructor(
    code: ModelErrorCode,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ModelError';
    this.code = code;
    this.status = options.status;
  }

  /** Worth another attempt: the server was away or overloaded, not told something wrong. */
  get retryable(): boolean {
    return this.code === 'unreachable' || this.code === 'server_error' || this.status === 429;
  }

  /** The model's output was malformed; the loop tells the model and counts it. */
  get answerable(): boolean {
    return this.code === 'protocol' || this.code === 'output_too_large';
  }
}
