import { defineCommand } from '../command.js';
import { breakGlassFlags, openRunningEnvironment } from '../env-access.js';
import { UsageError } from '../errors.js';
import { exitCodeOf } from '../exec-stream.js';
import { checkProcessId } from '../process-client.js';
import { apiFlags } from '../session.js';
import { TerminalClient, type TerminalSize } from '../terminal-client.js';

interface Tty {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  columns?: number;
  rows?: number;
}

export const command = defineCommand({
  synopsis: '<env> [--attach PROCESS] [--break-glass REASON] [-- <command...>]',
  description:
    'Opens an interactive terminal in a running environment (your login shell, or the ' +
    'command after --), straight through its runner. The local terminal is put in raw mode and ' +
    'its size follows window changes. A dropped connection is restored automatically, with the ' +
    'output that was missed; the shell waits for you on the runner for its grace period (10 ' +
    'minutes by default), and --attach returns to it later. Exits with the shell’s exit code.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    rest: { name: 'command', describe: 'what to run instead of the login shell' },
    flags: {
      ...apiFlags,
      ...breakGlassFlags,
      attach: {
        type: 'string',
        valueName: 'PROCESS',
        describe: 'attach to a terminal of yours that is still running (see `hangar env ps`)',
      },
    },
  },
  async run({ io, out }, { flags, positionals, rest }) {
    const commandPath = 'env terminal';
    if (out.json) throw new UsageError('--json does not apply to a terminal', { commandPath });
    if (flags.attach !== undefined) checkProcessId(flags.attach, commandPath);
    if (flags.attach !== undefined && rest.length > 0) {
      throw new UsageError('--attach returns to a running terminal: give no command with it', {
        commandPath,
      });
    }
    const stdin = io.stdin as typeof io.stdin & Tty;
    const stdout = io.stdout as typeof io.stdout & Tty;
    if (stdin.isTTY !== true && rest.length === 0 && flags.attach === undefined) {
      throw new UsageError(
        'an interactive shell needs a terminal on stdin; to feed commands from a pipe use ' +
          '`hangar env exec <env> --stdin -- sh`, or give the command after --',
        { commandPath },
      );
    }
    const running = await openRunningEnvironment(io, flags, positionals.env, ['terminal']);
    // A terminal of unknown or zero size (`script` without a tty outside) gets the usual 80x24.
    const size = (): TerminalSize => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
    const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
    if (raw) stdin.setRawMode?.(true);
    try {
      const client = new TerminalClient({
        access: running.access,
        ...(rest.length > 0 ? { command: rest } : {}),
        ...(flags.attach !== undefined ? { processId: flags.attach } : {}),
        stdin,
        stdout,
        size,
        // A terminal's output stream emits `resize` on SIGWINCH.
        onResize: (listener) => {
          stdout.on('resize', listener);
          return () => stdout.off('resize', listener);
        },
        notice: (message) => out.info(raw ? `\r\n${message}\r` : message),
      });
      const exit = await client.run();
      return exitCodeOf(exit);
    } finally {
      if (raw) stdin.setRawMode?.(false);
    }
  },
});
