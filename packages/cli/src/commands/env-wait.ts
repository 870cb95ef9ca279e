import { defineCommand } from '../command.js';
import { openRunningEnvironment } from '../env-access.js';
import { exitCodeOf } from '../exec-stream.js';
import { checkProcessId, processPositionals, waitForExit } from '../process-client.js';
import { apiFlags } from '../session.js';

/** sysexits' EX_TEMPFAIL: the process still runs, try again later. */
export const stillRunningExitCode = 75;

export const command = defineCommand({
  synopsis: '<env> <process> [--timeout S]',
  description:
    'Waits for one of your detached commands to end and exits with its exit code (124 when its ' +
    `own timeout ended it, 128+n for signal n). When --timeout passes first, it says the ` +
    `command still runs and exits ${stillRunningExitCode}.`,
  spec: {
    positionals: processPositionals,
    flags: {
      ...apiFlags,
      timeout: {
        type: 'duration',
        valueName: 'S',
        min: 0,
        max: 7 * 86400,
        describe: 'give up after S seconds (also 90s, 15m, 2h); wait for ever when absent',
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const id = checkProcessId(positionals.process, 'env wait');
    const running = await openRunningEnvironment(io, flags, positionals.env, ['exec']);
    const info = await waitForExit(running.access, id, flags.timeout);
    if (info.state === 'running') {
      out.result(info, () => []);
      out.info(`hangar: ${id} is still running after ${flags.timeout ?? 0} s`);
      return stillRunningExitCode;
    }
    out.result(info, () => []);
    return exitCodeOf(info);
  },
});
