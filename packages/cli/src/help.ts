import type { ArgSpec, FlagSpec } from './args.js';
import { globalFlags } from './args.js';
import type { Command } from './command.js';

function flagLabel(name: string, flag: FlagSpec): string {
  const long = flag.short ? `-${flag.short}, --${name}` : `--${name}`;
  if (flag.type === 'boolean') return long;
  const value =
    flag.valueName ??
    (flag.type === 'string' ? 'VALUE' : flag.type === 'duration' ? 'DURATION' : 'N');
  return `${long} ${value}`;
}

function columns(rows: [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

export function usageLine(path: string, command: Pick<Command, 'synopsis'>): string {
  return `usage: hangar ${path}${command.synopsis ? ` ${command.synopsis}` : ''}`;
}

/** The help of one command: usage, description, arguments and every flag. */
export function commandHelp(path: string, command: Command<ArgSpec>): string[] {
  const lines = [usageLine(path, command), '', command.description];
  const positionals = command.spec.positionals ?? [];
  const rest = command.spec.rest;
  if (positionals.length > 0 || rest) {
    lines.push('', 'arguments:');
    const rows: [string, string][] = positionals.map((item) => [
      item.required ? `<${item.name}>` : `[<${item.name}>]`,
      item.describe,
    ]);
    if (rest) rows.push([`-- <${rest.name}...>`, rest.describe]);
    lines.push(...columns(rows));
  }
  const flags = { ...command.spec.flags, ...globalFlags };
  lines.push('', 'flags:');
  lines.push(
    ...columns(
      Object.entries(flags).map(([name, flag]: [string, FlagSpec]) => [
        flagLabel(name, flag),
        flag.describe +
          (flag.required ? ' (required)' : '') +
          (flag.multiple ? ' (repeatable)' : ''),
      ]),
    ),
  );
  return lines;
}

export function overview(entries: readonly { path: string; summary: string }[]): string[] {
  return [
    'usage: hangar <command> [arguments] [flags]',
    '',
    'Hangar runs development environments in your own infrastructure.',
    '',
    'commands:',
    ...columns(entries.map((entry) => [entry.path, entry.summary])),
    '',
    'Every command takes --json (machine-readable output on stdout) and --help.',
    "Exit codes: 0 success, 1 error, 2 usage error; `env exec` exits with the command's code.",
  ];
}
