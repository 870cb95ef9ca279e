import type { ArgSpec, ParsedArgs } from './args.js';
import type { Io } from './io.js';
import type { Output } from './output.js';

export interface CommandContext {
  io: Io;
  out: Output;
}

/** One `hangar` command: its arguments, its help, and what it does. Returns the exit code. */
export interface Command<S extends ArgSpec = ArgSpec> {
  /** The synopsis after `hangar <path>`, such as `<env> [--wait]`. */
  readonly synopsis: string;
  readonly description: string;
  readonly spec: S;
  run(context: CommandContext, args: ParsedArgs<S>): Promise<number>;
}

/** Keeps the literal types of a spec, so `args.flags` and `args.positionals` are typed. */
export function defineCommand<const S extends ArgSpec>(command: Command<S>): Command<S> {
  return command;
}
