import { processSignals } from '@hangar/api';
import { defineCommand } from '../command.js';
import { openRunningEnvironment } from '../env-access.js';
import { UsageError } from '../errors.js';
import { checkProcessId, processPositionals, signalProcess } from '../process-client.js';
import { apiFlags } from '../session.js';

const commandPath = 'env kill';

/** `TERM`, `sigterm` or `SIGTERM`, as one of the signals the gateway sends. */
function signalFrom(text: string): string {
  const name = text.toUpperCase().startsWith('SIG')
    ? text.toUpperCase()
    : `SIG${text.toUpperCase()}`;
  if ((processSignals as readonly string[]).includes(name)) return name;
  const known = processSignals.map((signal) => signal.slice(3)).join(', ');
  throw new UsageError(`--signal ${text} is not one of ${known}`, {
    commandPath,
    fields: [{ field: 'signal', message: `must be one of ${known}` }],
  });
}

export const command = defineCommand({
  synopsis: '<env> <process> [--signal TERM]',
  description:
    'Sends a signal (TERM unless --signal says otherwise) to the whole process group of one ' +
    'of your detached commands or terminals. Audited on the runner.',
  spec: {
    positionals: processPositionals,
    flags: {
      ...apiFlags,
      signal: {
        type: 'string',
        valueName: 'NAME',
        describe: 'TERM, KILL, INT, HUP, QUIT, USR1, USR2, STOP or CONT (default TERM)',
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const id = checkProcessId(positionals.process, commandPath);
    const signal = signalFrom(flags.signal ?? 'TERM');
    const running = await openRunningEnvironment(io, flags, positionals.env, ['exec']);
    const info = await signalProcess(await running.access(), id, signal);
    out.result(info, () => `sent ${signal} to ${id} (${info.state})`);
    return 0;
  },
});
