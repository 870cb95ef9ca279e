import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { HangarError } from './errors.js';
import { summarizeFields, toFieldErrors } from './validate.js';

type SchemaError = Parameters<typeof toFieldErrors>[0] extends Iterable<infer E> ? E : never;

/**
 * A request validator from the same TypeBox schema that documents the route. Bodies are checked
 * exactly as sent (no coercion, unknown fields refused); query strings and path parameters
 * arrive as text, so their numbers and booleans are converted first.
 */
export function compileRequestValidator(schema: TSchema, httpPart: string | undefined) {
  const compiled = Compile(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'body');
  const prefix = part === 'body' ? '' : part;
  return (data: unknown) => {
    const value = convert ? Value.Convert(schema, data) : data;
    if (compiled.Check(value)) return { value };
    const fields = toFieldErrors(compiled.Errors(value) as Iterable<SchemaError>, prefix);
    const summary = summarizeFields(fields);
    const error = new HangarError('invalid_request', `the ${part} is not valid: ${summary}`, {
      fields,
    });
    return { error };
  };
}

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

/** Maps any failure a request can meet, the HTTP framework's own included, to a HangarError. */
export function toHangarError(error: unknown): HangarError {
  if (error instanceof HangarError) return error;
  const framework = (error ?? {}) as FrameworkError;
  if (framework.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HangarError('payload_too_large', 'the request body is too large');
  }
  if (framework.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new HangarError(
      'invalid_request',
      'the request body has a content type this route does not take',
    );
  }
  if (framework.statusCode === 400 || framework.validation) {
    return new HangarError(
      'invalid_request',
      `the request is not valid: ${framework.message ?? ''}`,
    );
  }
  if (framework.statusCode === 404) {
    return new HangarError('not_found', framework.message ?? 'not found');
  }
  return new HangarError(
    'internal',
    'an internal error occurred; the request id names it in the log',
  );
}
