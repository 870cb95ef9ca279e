import type { Runner } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

interface CreateRunnerResponse {
  runner: Runner;
  enrollmentToken: string;
  enrollmentExpiresAt: string;
}

export const command = defineCommand({
  synopsis: '<name>',
  description:
    'Creates a runner record and prints its enrollment token, once: single use, valid one ' +
    'hour. Start the runner with it on the machine that will hold the environments.',
  spec: {
    positionals: [
      { name: 'name', required: true, describe: 'lower-case letters, digits and dashes' },
    ],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api, credentials } = await openSession(io, flags);
    const created = await api.post<CreateRunnerResponse>('/v1/runners', { name: positionals.name });
    const start =
      `npx hangar runner --control-plane ${credentials.controlPlaneUrl} ` +
      `--enroll ${created.enrollmentToken} --data-dir /var/lib/hangar-runner-${created.runner.name}`;
    out.result({ ...created, startCommand: start }, () => [
      `runner ${created.runner.name} (${created.runner.id}) created`,
      `enrollment token (shown once; single use; expires ${created.enrollmentExpiresAt}):`,
      `  ${created.enrollmentToken}`,
      'start the runner with (as root, on the machine that will hold the environments):',
      `  ${start}`,
      'on a machine that already runs a runner, give it its own --data-dir and --gateway-port',
      '(0 picks a free one); clients must reach its gateway: see --gateway-host and --gateway-url',
    ]);
    return 0;
  },
});
