import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { HangarError, type FieldError } from './errors.js';

interface SchemaError {
  instancePath: string;
  message: string;
  keyword: string;
  params: Record<string, unknown>;
}

function fieldName(prefix: string, pointer: string): string {
  const path = pointer.split('/').filter(Boolean).join('.');
  if (!prefix) return path || '(root)';
  return path ? `${prefix}.${path}` : prefix;
}

/** Turns JSON-schema errors into field errors that say which field and what is expected. */
export function toFieldErrors(errors: Iterable<SchemaError>, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    if (error.keyword === 'boolean') continue;
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params.additionalProperties as string[] | undefined) ?? [];
      for (const name of extra) {
        out.push({
          field: fieldName(prefix, `${error.instancePath}/${name}`),
          message: 'is not a known field; remove it',
        });
      }
      continue;
    }
    if (error.keyword === 'required') {
      const missing = (error.params.requiredProperties as string[] | undefined) ?? [];
      for (const name of missing) {
        out.push({
          field: fieldName(prefix, `${error.instancePath}/${name}`),
          message: 'is required',
        });
      }
      continue;
    }
    out.push({ field: fieldName(prefix, error.instancePath), message: error.message });
  }
  return out;
}

/** A compiled validator that throws one `invalid_request` error naming every bad field. */
export function validator<T extends TSchema>(schema: T, what: string) {
  const compiled = Compile(schema);
  return (value: unknown, prefix = ''): Static<T> => {
    if (compiled.Check(value)) return value;
    const fields = toFieldErrors(compiled.Errors(value) as Iterable<SchemaError>, prefix);
    const summary = fields
      .slice(0, 3)
      .map((field) => `${field.field} ${field.message}`)
      .join('; ');
    throw new HangarError('invalid_request', `${what} is not valid: ${summary}`, { fields });
  };
}
