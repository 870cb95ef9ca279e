import { parseArgs, type ArgSpec } from './args.js';
import type { Command } from './command.js';
import { UsageError, asHangarError } from './errors.js';
import { commandHelp, overview, usageLine } from './help.js';
import { processIo, type Io } from './io.js';
import { Output } from './output.js';
import { commandEntries, findCommand } from './registry.js';

/** `--json` anywhere before `--`, known before the arguments are parsed, for error output. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function isHelpWord(word: string | undefined): boolean {
  return word === 'help' || word === '--help' || word === '-h';
}

async function printHelp(out: Output, topic: readonly string[]): Promise<number> {
  if (topic.length === 0) {
    out.raw(`${overview(commandEntries).join('\n')}\n`);
    return 0;
  }
  const { entry } = findCommand(topic);
  out.raw(`${commandHelp(entry.path, await entry.load()).join('\n')}\n`);
  return 0;
}

/**
 * Runs one `hangar` command line and returns its exit code: 0 on success, 1 on an error, 2 on
 * a usage error, and for `env exec` the command's own. Nothing here or in a command calls
 * `process.exit`; the caller sets `process.exitCode`.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const out = new Output(io, { json: wantsJson(argv) });
  let path: string | undefined;
  let command: Command<ArgSpec> | undefined;
  try {
    if (argv.length === 0) {
      out.info(overview(commandEntries).join('\n'));
      return 2;
    }
    if (isHelpWord(argv[0])) return await printHelp(out, argv.slice(1));
    const found = findCommand(argv);
    path = found.entry.path;
    command = await found.entry.load();
    const args = parseArgs(command.spec, found.rest, path);
    if (args.flags.help) {
      out.raw(`${commandHelp(path, command).join('\n')}\n`);
      return 0;
    }
    return await command.run({ io, out }, args);
  } catch (error) {
    if (error instanceof UsageError) {
      const hint =
        path && command
          ? `${usageLine(path, command)}\nrun \`hangar ${path} --help\` for every flag`
          : 'run `hangar --help` for the commands';
      out.error(error, hint);
      return 2;
    }
    const hangar = asHangarError(error);
    out.error(hangar);
    if (io.env.HANGAR_DEBUG && error instanceof Error && error.stack) out.info(error.stack);
    return 1;
  }
}
