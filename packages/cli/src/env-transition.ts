import type { DesiredPhase, Environment } from '@hangar/api';
import type { Command } from './command.js';
import { defineCommand } from './command.js';
import { finishWait } from './env-report.js';
import { resolveEnvironment } from './environments.js';
import { apiFlags, openSession } from './session.js';
import { settledOutcome, watchEnvironment } from './watch.js';

const spec = {
  positionals: [{ name: 'env', required: true, describe: 'environment id or name' }],
  flags: {
    ...apiFlags,
    wait: { type: 'boolean', describe: 'wait until the environment gets there, printing progress' },
  },
} as const;

type TransitionSpec = typeof spec;

interface Transition {
  verb: 'start' | 'stop' | 'delete';
  target: DesiredPhase;
  /** Said when the request was accepted: `stopping`. */
  progress: string;
  description: string;
}

/** `env start`, `env stop` and `env delete`: one request, then optionally a wait. */
export function transitionCommand(transition: Transition): Command<TransitionSpec> {
  return defineCommand({
    synopsis: '<env> [--wait]',
    description: transition.description,
    spec,
    async run({ io, out }, { flags, positionals }) {
      const { api } = await openSession(io, flags);
      const found = await resolveEnvironment(api, positionals.env);
      const path = `/v1/environments/${encodeURIComponent(found.id)}`;
      const changed =
        transition.verb === 'delete'
          ? await api.delete<Environment>(path)
          : await api.post<Environment>(`${path}/${transition.verb}`);
      const already =
        settledOutcome(changed, { target: transition.target, sinceTime: changed.updatedAt }) ===
        'reached';
      out.info(
        already
          ? `${changed.name} is already ${transition.target}`
          : `${transition.progress} ${changed.name}`,
      );
      if (!flags.wait) {
        out.result(changed, () => [`${changed.name}  ${changed.id}  ${changed.status.phase}`]);
        return 0;
      }
      const result = await watchEnvironment(api, changed, {
        target: transition.target,
        sinceTime: changed.updatedAt,
        report: (line) => out.info(line),
        showStart: false,
      });
      const final = result.environment;
      out.result(final, () => [`${final.name}  ${final.id}  ${final.status.phase}`]);
      return finishWait(api, out, result);
    },
  });
}
