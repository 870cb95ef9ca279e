import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { CreateEnvironmentBody, Environment } from '@hangar/api';
import { defineCommand } from '../command.js';
import { finishWait } from '../env-report.js';
import { resolveRunnerId } from '../environments.js';
import { UsageError } from '../errors.js';
import { apiFlags, openSession } from '../session.js';
import { watchEnvironment } from '../watch.js';

/**
 * A URL (`https://…`, `file://…`), scp-like `host:path`, or a path. A path that is relative
 * (`./repo`, `../repo`, or any name that exists here) becomes absolute, because the runner
 * resolves it on its own host and from its own directory.
 */
export function repositoryUrlFrom(input: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input) || isAbsolute(input)) return input;
  const local = resolve(cwd, input);
  if (/^\.\.?(\/|$)/.test(input) || existsSync(local)) return local;
  return input;
}

export const command = defineCommand({
  synopsis:
    '[<repo>] [--ref R] [--name N] [--devcontainer PATH] [--class C] [--runner ID] ' +
    '[--project P] [--wait]',
  description:
    'Creates an environment. <repo> is any URL git accepts, or a local path (made absolute). ' +
    'Without <repo> the workspace starts empty. With --wait, prints each phase and lifecycle ' +
    'step until the environment runs (exit 0) or fails (exit 1, with the reason and the end of ' +
    'the lifecycle log).',
  spec: {
    positionals: [{ name: 'repo', required: false, describe: 'git URL or local path' }],
    flags: {
      ...apiFlags,
      ref: { type: 'string', valueName: 'REF', describe: 'branch, tag or commit to check out' },
      name: { type: 'string', valueName: 'NAME', describe: 'environment name (default: derived)' },
      devcontainer: {
        type: 'string',
        valueName: 'PATH',
        describe: 'devcontainer.json path relative to the repository root',
      },
      class: { type: 'string', valueName: 'CLASS', describe: 'resource class, such as small' },
      runner: { type: 'string', valueName: 'ID', describe: 'runner id or name to place it on' },
      project: {
        type: 'string',
        valueName: 'P',
        describe: 'a project of the organization policy; its repositories and runners apply',
      },
      wait: { type: 'boolean', describe: 'wait until it runs or fails, printing progress' },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    if (flags.ref !== undefined && positionals.repo === undefined) {
      throw new UsageError('--ref needs a <repo>', { commandPath: 'env create' });
    }
    const { api } = await openSession(io, flags);
    const body: CreateEnvironmentBody = {};
    if (positionals.repo !== undefined) {
      body.repository = { url: repositoryUrlFrom(positionals.repo, io.cwd) };
      if (flags.ref !== undefined) body.repository.ref = flags.ref;
    }
    if (flags.name !== undefined) body.name = flags.name;
    if (flags.devcontainer !== undefined) body.devcontainerPath = flags.devcontainer;
    if (flags.class !== undefined) body.class = flags.class;
    if (flags.project !== undefined) body.project = flags.project;
    if (flags.runner !== undefined) body.runnerId = await resolveRunnerId(api, flags.runner);
    const created = await api.post<Environment>('/v1/environments', body);
    out.info(`created ${created.name} (${created.id}) on runner ${created.runnerId}`);
    if (!flags.wait) {
      out.result(created, () => [`${created.name}  ${created.id}  ${created.status.phase}`]);
      out.info(`it is being created; \`hangar env get ${created.name}\` shows its phase`);
      return 0;
    }
    const result = await watchEnvironment(api, created, {
      target: 'running',
      sinceTime: created.createdAt,
      report: (line) => out.info(line),
    });
    const final = result.environment;
    out.result(final, () => [`${final.name}  ${final.id}  ${final.status.phase}`]);
    if (result.outcome === 'reached') {
      out.info(`try: hangar env exec ${final.name} -- ls -la`);
    }
    return finishWait(api, out, result);
  },
});
