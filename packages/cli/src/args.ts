import { parseDurationS } from './durations.js';
import { UsageError } from './errors.js';

/** `duration` reads `30`, `90s`, `15m`, `12h`, `30d` and yields seconds. */
export type FlagType = 'string' | 'boolean' | 'integer' | 'number' | 'duration';

export interface FlagSpec {
  readonly type: FlagType;
  readonly describe: string;
  /** The placeholder in help, such as `N` or `URL`. */
  readonly valueName?: string;
  readonly multiple?: boolean;
  readonly required?: boolean;
  /** A one-letter alias, such as `f` for `-f`. */
  readonly short?: string;
  /** Bounds for number, integer and duration flags (durations in seconds). */
  readonly min?: number;
  readonly max?: number;
}

export interface PositionalSpec {
  readonly name: string;
  readonly required: boolean;
  readonly describe: string;
}

/** Arguments after `--`, or after the last positional: passed on verbatim, never parsed. */
export interface RestSpec {
  readonly name: string;
  readonly describe: string;
}

export interface ArgSpec {
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  readonly rest?: RestSpec;
}

/** Flags every command takes. */
export const globalFlags = {
  json: { type: 'boolean', describe: 'print machine-readable JSON to stdout' },
  help: { type: 'boolean', describe: 'show this help' },
} as const satisfies Record<string, FlagSpec>;

type Scalar<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'string'
    ? string
    : number;

type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean'
  ? boolean
  : F extends { multiple: true }
    ? Scalar<F>[]
    : F extends { required: true }
      ? Scalar<F>
      : Scalar<F> | undefined;

export type FlagValues<S extends ArgSpec> = {
  -readonly [K in keyof S['flags']]: FlagValue<S['flags'][K]>;
} & { json: boolean; help: boolean };

type PositionalValues<S extends ArgSpec> = S['positionals'] extends readonly PositionalSpec[]
  ? {
      [P in S['positionals'][number] as P['name']]: P['required'] extends true
        ? string
        : string | undefined;
    }
  : Record<string, never>;

export interface ParsedArgs<S extends ArgSpec> {
  flags: FlagValues<S>;
  positionals: PositionalValues<S>;
  rest: string[];
}

/** Edit distance, for "did you mean" on a mistyped flag. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function suggestion(name: string, known: string[]): string {
  const close = known
    .map((candidate) => ({ candidate, score: distance(name, candidate) }))
    .filter((entry) => entry.score <= Math.max(2, Math.floor(entry.candidate.length / 3)))
    .sort((a, b) => a.score - b.score)[0];
  return close ? `; did you mean --${close.candidate}?` : '';
}

/** What a duration flag's error offers as examples: only those within the flag's range. */
const durationExamples: Array<[string, number]> = [
  ['30', 30],
  ['90s', 90],
  ['15m', 900],
  ['12h', 43_200],
  ['30d', 2_592_000],
];

function numberProblem(spec: FlagSpec): string {
  const what =
    spec.type === 'integer'
      ? 'a whole number'
      : spec.type === 'duration'
        ? 'a duration'
        : 'a number';
  const unit = spec.type === 'duration' ? ' seconds' : '';
  const examples = durationExamples.filter(([, seconds]) => seconds <= (spec.max ?? Infinity));
  const names = examples.map(([name]) => name);
  const example =
    spec.type === 'duration' && names.length > 1
      ? ` such as ${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`
      : '';
  if (spec.min !== undefined && spec.max !== undefined) {
    return `${what} from ${spec.min} to ${spec.max}${unit}${example}`;
  }
  if (spec.min !== undefined) return `${what} of at least ${spec.min}${unit}${example}`;
  return `${what}${example}`;
}

function convert(flag: string, spec: FlagSpec, text: string, commandPath: string): string | number {
  if (spec.type === 'string') return text;
  let value: number | undefined;
  if (spec.type === 'integer') value = /^-?\d+$/.test(text) ? Number(text) : undefined;
  if (spec.type === 'number') value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
  if (spec.type === 'duration') value = parseDurationS(text);
  const inRange =
    value !== undefined &&
    Number.isFinite(value) &&
    (spec.type !== 'integer' || Number.isSafeInteger(value)) &&
    (spec.min === undefined || value >= spec.min) &&
    (spec.max === undefined || value <= spec.max);
  if (value === undefined || !inRange) {
    throw new UsageError(`--${flag} must be ${numberProblem(spec)}, got "${text}"`, {
      commandPath,
      fields: [{ field: flag, message: `must be ${numberProblem(spec)}` }],
    });
  }
  return value;
}

/**
 * Parses one command's arguments against its spec. Unknown flags, missing values, flags given
 * twice, numbers out of range and stray arguments are usage errors that name the problem.
 * `--name value` and `--name=value` both work; after `--` (or, for a command that takes a rest,
 * after its last positional) everything is passed on untouched.
 */
export function parseArgs<S extends ArgSpec>(
  spec: S,
  argv: readonly string[],
  commandPath: string,
): ParsedArgs<S> {
  const flagSpecs: Record<string, FlagSpec> = { ...globalFlags, ...spec.flags };
  const positionalSpecs = spec.positionals ?? [];
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const rest: string[] = [];
  const usage = (message: string, field?: string) =>
    new UsageError(message, {
      commandPath,
      ...(field ? { fields: [{ field, message }] } : {}),
    });

  const shorts = new Map(
    Object.entries(flagSpecs).flatMap(([name, flag]) => (flag.short ? [[flag.short, name]] : [])),
  );
  for (let index = 0; index < argv.length; index += 1) {
    const given = argv[index] ?? '';
    const alias = /^-[A-Za-z]$/.test(given) ? shorts.get(given.slice(1)) : undefined;
    const arg = alias === undefined ? given : `--${alias}`;
    if (arg === '--') {
      if (!spec.rest) throw usage('this command takes no arguments after --');
      rest.push(...argv.slice(index + 1));
      break;
    }
    if (arg === '-h') {
      values.help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      const inline = equals === -1 ? undefined : arg.slice(equals + 1);
      const flag = flagSpecs[name];
      if (!flag) {
        throw usage(`unknown flag --${name}${suggestion(name, Object.keys(flagSpecs))}`, name);
      }
      if (flag.type === 'boolean') {
        if (inline !== undefined) throw usage(`--${name} takes no value`, name);
        values[name] = true;
        continue;
      }
      let text = inline;
      if (text === undefined) {
        const next = argv[index + 1];
        if (next === undefined || next.startsWith('--')) {
          throw usage(
            `--${name} needs a value${flag.valueName ? ` (${flag.valueName})` : ''}`,
            name,
          );
        }
        text = next;
        index += 1;
      }
      const value = convert(name, flag, text, commandPath);
      if (flag.multiple) {
        const list = (values[name] as unknown[] | undefined) ?? [];
        list.push(value);
        values[name] = list;
      } else {
        if (values[name] !== undefined) throw usage(`--${name} is given more than once`, name);
        values[name] = value;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      throw usage(`unknown flag ${arg}; flags are spelt --name`, arg.slice(1));
    }
    if (positionals.length < positionalSpecs.length) {
      positionals.push(arg);
      continue;
    }
    if (spec.rest) {
      rest.push(...argv.slice(index));
      break;
    }
    throw usage(`unexpected argument "${arg}"`);
  }

  for (const [name, flag] of Object.entries(flagSpecs)) {
    if (flag.type === 'boolean') values[name] = values[name] === true;
    else if (flag.multiple) values[name] = values[name] ?? [];
  }
  if (values.help === true) {
    return { flags: values, positionals: {}, rest } as unknown as ParsedArgs<S>;
  }
  for (const [name, flag] of Object.entries(flagSpecs)) {
    const missing = flag.multiple
      ? (values[name] as unknown[]).length === 0
      : values[name] === undefined;
    if (flag.required && missing) {
      throw usage(`--${name} is required${flag.valueName ? ` (${flag.valueName})` : ''}`, name);
    }
  }
  const named: Record<string, string> = {};
  positionalSpecs.forEach((positional, position) => {
    const value = positionals[position];
    if (value !== undefined) named[positional.name] = value;
    else if (positional.required) throw usage(`missing <${positional.name}>`, positional.name);
  });
  return { flags: values, positionals: named, rest } as unknown as ParsedArgs<S>;
}
