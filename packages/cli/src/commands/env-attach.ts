import { defineCommand } from '../command.js';
import { openRunningEnvironment } from '../env-access.js';
import { UsageError } from '../errors.js';
import { exitCodeOf } from '../exec-stream.js';
import { attachToProcess, checkProcessId, processPositionals } from '../process-client.js';
import { apiFlags } from '../session.js';

export const command = defineCommand({
  synopsis: '<env> <process> [--from N | --new] [--stdin]',
  description:
    'Follows one of your detached commands: the output the runner kept (from byte N with ' +
    '--from, none with --new), then what it prints, as raw bytes on stdout and stderr. With ' +
    '--stdin, this process’s stdin goes to the command. Ctrl-C leaves the command running. ' +
    'Exits with the command’s exit code once it ends.',
  spec: {
    positionals: processPositionals,
    flags: {
      ...apiFlags,
      from: {
        type: 'integer',
        valueName: 'N',
        min: 0,
        describe: 'replay kept output from byte offset N (default 0: all that is kept)',
      },
      new: { type: 'boolean', describe: 'show only output printed from now on' },
      stdin: { type: 'boolean', describe: 'send this stdin to the command (ended at its end)' },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const id = checkProcessId(positionals.process, 'env attach');
    if (out.json) {
      throw new UsageError(
        '--json does not apply: attach streams raw bytes; `hangar env wait --json` gives the end',
        { commandPath: 'env attach' },
      );
    }
    if (flags.new && flags.from !== undefined) {
      throw new UsageError('--new and --from contradict each other', { commandPath: 'env attach' });
    }
    const running = await openRunningEnvironment(io, flags, positionals.env, ['exec']);
    const exit = await attachToProcess({
      access: await running.access(),
      id,
      ...(flags.new ? {} : { fromOffset: flags.from ?? 0 }),
      ...(flags.stdin ? { stdin: io.stdin } : {}),
      stdout: io.stdout,
      stderr: io.stderr,
    });
    return exitCodeOf(exit);
  },
});
