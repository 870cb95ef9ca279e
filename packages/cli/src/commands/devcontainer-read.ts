import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HangarError } from '@hangar/api/errors.js';
import { DEFAULT_CONFIG_PATHS, readDevcontainer } from '@hangar/runner/devcontainer/index.js';
import { defineCommand } from '../command.js';

export const command = defineCommand({
  synopsis: '<folder> [--config PATH] [--json]',
  description:
    "Finds, parses and resolves a folder's devcontainer.json (.devcontainer/devcontainer.json, " +
    '.devcontainer.json, or --config) exactly as a runner does, and prints the result as JSON. ' +
    "${localEnv:…} reads this shell's environment. A malformed file is an error naming its " +
    'line and column.',
  spec: {
    positionals: [
      { name: 'folder', required: true, describe: 'the workspace (repository) folder' },
    ],
    flags: {
      config: {
        type: 'string',
        valueName: 'PATH',
        describe: 'devcontainer.json path relative to the folder',
      },
    },
  },
  async run({ io, out }, { flags, positionals }) {
    const workspaceDir = resolve(io.cwd, positionals.folder);
    const folder = await stat(workspaceDir).catch(() => undefined);
    if (!folder?.isDirectory()) {
      throw new HangarError(
        'not_found',
        `${workspaceDir} is not a folder; name a repository's folder`,
      );
    }
    const result = await readDevcontainer({
      workspaceDir,
      ...(flags.config !== undefined ? { configPath: flags.config } : {}),
      localEnv: io.env,
    });
    if (result === null) {
      throw new HangarError(
        'not_found',
        `${workspaceDir} holds no devcontainer configuration (looked for ` +
          `${DEFAULT_CONFIG_PATHS.join(', ')}); pass --config PATH to name one`,
      );
    }
    out.raw(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  },
});
