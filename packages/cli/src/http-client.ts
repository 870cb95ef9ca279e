import { HangarError, isErrorCode, type ErrorCode, type FieldError } from '@hangar/api/errors.js';
import { send, type TransportResponse } from './transport.js';

export type QueryValue = string | number | boolean | undefined;

export interface HttpClientOptions {
  /** `http://host:port`, without a trailing slash. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Who answers, in words, for messages: `control plane`, `runner gateway`. */
  service: string;
  /** Added to `unauthenticated` and `token_expired` errors: the token's origin, what to do. */
  authHint?: string;
  /** Added instead of `authHint` when the refused token was a sign-in session. */
  sessionAuthHint?: string;
  /** Added when the service cannot be reached at all. */
  unreachableHint?: string;
}

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

const codeByStatus: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'devcontainer_invalid',
  503: 'runner_unavailable',
};

interface BodyShape {
  code?: unknown;
  message?: unknown;
  requestId?: unknown;
  fields?: unknown;
  nextVersion?: unknown;
  policy?: unknown;
  tokenKind?: unknown;
}

function fieldsOf(value: unknown): FieldError[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const fields = value.filter(
    (item): item is FieldError =>
      typeof (item as FieldError | null)?.field === 'string' &&
      typeof (item as FieldError | null)?.message === 'string',
  );
  return fields.length > 0 ? fields : undefined;
}

/**
 * The one mapping from an HTTP error response to a HangarError, for the control plane and the
 * runner gateway alike. A body `{ code, message, requestId, fields? }` keeps its code, message
 * and fields, and the request id goes to `details.requestId`; anything else gets the code of its
 * status and a message quoting the start of the body.
 */
export function errorFromResponse(input: {
  status: number;
  text: string;
  service: string;
  authHint?: string | undefined;
  sessionAuthHint?: string | undefined;
}): HangarError {
  let body: BodyShape = {};
  try {
    const parsed: unknown = JSON.parse(input.text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed;
  } catch {
    body = {};
  }
  const details: Record<string, unknown> = { status: input.status };
  if (typeof body.requestId === 'string') details.requestId = body.requestId;
  if (typeof body.nextVersion === 'number') details.nextVersion = body.nextVersion;
  if (typeof body.policy === 'string') details.policy = body.policy;
  if (body.tokenKind === 'token' || body.tokenKind === 'session')
    details.tokenKind = body.tokenKind;
  const fields = fieldsOf(body.fields);
  let code: ErrorCode;
  let message: string;
  if (isErrorCode(body.code) && typeof body.message === 'string') {
    code = body.code;
    message = body.message;
  } else {
    code = codeByStatus[input.status] ?? 'internal';
    const snippet = input.text.replace(/\s+/g, ' ').trim().slice(0, 200);
    message = `the ${input.service} answered HTTP ${input.status}${snippet ? `: ${snippet}` : ''}`;
  }
  const hint = body.tokenKind === 'session' ? input.sessionAuthHint : input.authHint;
  if ((code === 'unauthenticated' || code === 'token_expired') && hint) {
    message = `${message} (${hint})`;
  }
  return new HangarError(code, message, { details, ...(fields ? { fields } : {}) });
}

function describeCause(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

/** A small JSON-over-HTTP client: one method per verb shape, errors mapped in one place. */
export class HttpClient {
  constructor(readonly options: HttpClientOptions) {}

  url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.body.length === 0) return undefined as T;
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch {
      throw new HangarError(
        'internal',
        `the ${this.options.service} answered ${method} ${path} with a body that is not JSON`,
      );
    }
  }

  async bytes(method: string, path: string, options: RequestOptions = {}): Promise<Buffer> {
    return (await this.send(method, path, options)).body;
  }

  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T> {
    return this.json<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>('POST', path, body === undefined ? {} : { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.json<T>('DELETE', path);
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: TransportResponse;
    try {
      response = await send({
        method,
        url: this.url(path, options.query),
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (error) {
      const hint = this.options.unreachableHint ? `; ${this.options.unreachableHint}` : '';
      throw new HangarError(
        'unreachable',
        `cannot reach the ${this.options.service} at ${this.options.baseUrl} ` +
          `(${describeCause(error)})${hint}`,
        { cause: error, details: { unreachable: true } },
      );
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw errorFromResponse({
      status: response.status,
      text: response.body.toString('utf8'),
      service: this.options.service,
      authHint: this.options.authHint,
      sessionAuthHint: this.options.sessionAuthHint,
    });
  }
}
