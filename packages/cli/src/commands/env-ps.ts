import type { ProcessInfoBody } from '@hangar/api';
import { defineCommand } from '../command.js';
import { openRunningEnvironment } from '../env-access.js';
import { age, table } from '../output.js';
import { listOwnProcesses } from '../process-client.js';
import { apiFlags } from '../session.js';

function stateOf(info: ProcessInfoBody): string {
  if (info.state === 'running') return 'running';
  if (info.timedOut) return 'timed out';
  if (info.signal) return `killed (${info.signal})`;
  return `exited ${info.exitCode ?? '?'}`;
}

export const command = defineCommand({
  synopsis: '<env>',
  description:
    'Lists your detached commands and terminals in a running environment, running ones and ' +
    'the most recent ended ones (the runner keeps a bounded number), with their state.',
  spec: {
    positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const running = await openRunningEnvironment(io, flags, positionals.env, ['exec']);
    const processes = await listOwnProcesses(await running.access());
    const nowMs = Date.now();
    out.result({ environmentId: running.environment.id, processes }, () =>
      processes.length === 0
        ? ['no processes of yours; `hangar env exec --detach` starts one']
        : table(
            ['ID', 'KIND', 'STATE', 'STARTED', 'OUTPUT', 'COMMAND'],
            processes.map((info) => [
              info.id,
              info.kind,
              stateOf(info),
              age(info.startedAt, nowMs),
              `${info.outputBytes} B`,
              info.command.join(' ').slice(0, 60),
            ]),
          ),
    );
    return 0;
  },
});
