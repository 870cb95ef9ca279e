import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { HangarError, type FieldError } from './errors.js';

interface SchemaError {
  instancePath: string;
  message: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** What the patterns the schemas use mean, in words, for error messages. */
const patternWords: Record<string, string> = {
  '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$':
    'must be 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit',
  '^[a-z]{3}_[0-9a-z]{8,40}$': 'must be an id such as env_3k9xq2m1p0a8z7yw',
  '^[a-z0-9][a-z0-9-]{0,31}$': 'must be 1 to 32 lower-case letters, digits and dashes',
  '^[A-Za-z_][A-Za-z0-9_]*$':
    'must be a variable name: letters, digits and _, not starting with a digit',
};

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
    const pattern = error.keyword === 'pattern' ? String(error.params.pattern) : undefined;
    const message = (pattern && patternWords[pattern]) ?? error.message;
    out.push({ field: fieldName(prefix, error.instancePath), message });
  }
  return out;
}

/** The first few field problems in one line, for an error message. */
export function summarizeFields(fields: readonly FieldError[]): string {
  return fields
    .slice(0, 3)
    .map((field) => `${field.field} ${field.message}`)
    .join('; ');
}

/** A compiled validator that throws one `invalid_request` error naming every bad field. */
export function validator<T extends TSchema>(schema: T, what: string) {
  const compiled = Compile(schema);
  return (value: unknown, prefix = ''): Static<T> => {
    if (compiled.Check(value)) return value;
    const fields = toFieldErrors(compiled.Errors(value) as Iterable<SchemaError>, prefix);
    throw new HangarError('invalid_request', `${what} is not valid: ${summarizeFields(fields)}`, {
      fields,
    });
  };
}
