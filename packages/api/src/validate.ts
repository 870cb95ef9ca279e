import { Compile } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import { HangarError, type FieldError } from './errors.js';
import { claimNamePattern, emailDomainPattern } from './schemas/auth.js';

interface SchemaError {
  instancePath: string;
  /** Where in the schema it failed: `#/properties/role/anyOf/1` (absent from some sources). */
  schemaPath?: string;
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
  [emailDomainPattern]: 'must be a lower-case e-mail domain such as example.com',
  [claimNamePattern]: 'must be a claim name: a letter or _, then up to 99 letters, digits, _ . : -',
};

function fieldName(prefix: string, pointer: string): string {
  const path = pointer.split('/').filter(Boolean).join('.');
  if (!prefix) return path || '(root)';
  return path ? `${prefix}.${path}` : prefix;
}

/** `a, b or c`, each JSON-quoted when it is not a plain word. */
function either(values: readonly unknown[]): string {
  const words = [...new Set(values.map((value) => String(value)))];
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function typeWord(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * One message for a union whose branches all failed at the value itself: the allowed values of
 * its constants and enums, and the kinds of its other branches (`must be one of: a, b`,
 * `must be an object or null`). Undefined when a branch failed deeper down.
 */
function unionMessage(branches: readonly SchemaError[], at: string): string | undefined {
  const values: unknown[] = [];
  const types: string[] = [];
  for (const branch of branches) {
    if (branch.instancePath !== at) return undefined;
    if (branch.keyword === 'const') values.push(branch.params.allowedValue);
    else if (branch.keyword === 'enum') values.push(...allowedValues(branch));
    else if (branch.keyword === 'type') types.push(typeWord(String(branch.params.type)));
    else return undefined;
  }
  if (types.length === 0) return `must be one of: ${either(values)}`;
  if (values.length === 0) return `must be ${either(types)}`;
  return `must be one of: ${either(values)}, or ${either(types)}`;
}

function allowedValues(error: SchemaError): unknown[] {
  const values = error.params.allowedValues;
  return Array.isArray(values) ? values : [];
}

/**
 * A union (`anyOf`) reports one error per branch and one for itself. Its branches are folded
 * into one message when each failed at the value itself; else only the errors of the branches
 * whose kind the value had are kept (the branch a value was meant for says what is wrong).
 */
function foldUnions(errors: readonly SchemaError[]): SchemaError[] {
  const unions = errors.filter((error) => error.keyword === 'anyOf' && error.schemaPath);
  const outer = unions.filter(
    (union) => !unions.some((other) => other !== union && within(union, other)),
  );
  if (outer.length === 0) return [...errors];
  const folded: SchemaError[] = [];
  for (const error of errors) {
    const union = outer.find((item) => item === error || within(error, item));
    if (!union) folded.push(error);
    else if (union === error)
      folded.push(
        ...foldUnion(
          union,
          errors.filter((e) => within(e, union)),
        ),
      );
  }
  return folded;
}

/** Whether `error` comes from a branch of `union`. */
function within(error: SchemaError, union: SchemaError): boolean {
  return Boolean(error.schemaPath?.startsWith(`${union.schemaPath}/anyOf/`));
}

function foldUnion(union: SchemaError, branches: SchemaError[]): SchemaError[] {
  const message = unionMessage(branches, union.instancePath);
  if (message) return [{ ...union, keyword: 'union', message }];
  const kept = branches.filter(
    (branch) => !(branch.keyword === 'type' && branch.instancePath === union.instancePath),
  );
  return kept.length > 0 ? foldUnions(kept) : [union];
}

/** Turns JSON-schema errors into field errors that say which field and what is expected. */
export function toFieldErrors(errors: Iterable<SchemaError>, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of foldUnions([...errors])) {
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
    let message = (pattern && patternWords[pattern]) ?? error.message;
    if (error.keyword === 'enum') message = `must be one of: ${either(allowedValues(error))}`;
    if (error.keyword === 'const') message = `must be ${String(error.params.allowedValue)}`;
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
