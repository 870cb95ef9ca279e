import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { moveLegacyProperties } from './legacy.js';
import { resolveDevcontainer } from './resolve.js';
import type { DevcontainerConfig } from './types.js';

const workspaceDir = '/data/envs/e1/my-repo';
const configPath = `${workspaceDir}/.devcontainer/devcontainer.json`;
const localEnv = { HOME: '/home/dev' };

function resolve(config: DevcontainerConfig, folderName?: string) {
  return resolveDevcontainer({ config, configPath, workspaceDir, localEnv, folderName });
}

void test('an image config gets the default workspace folder and bind mount', () => {
  const result = resolve({ image: 'debian', postCreateCommand: 'cd ${containerWorkspaceFolder}' });

  assert.deepStrictEqual(result, {
    configuration: {
      image: 'debian',
      postCreateCommand: 'cd /workspaces/my-repo',
      configFilePath: { $mid: 1, fsPath: configPath, path: configPath, scheme: 'vscode-fileHost' },
    },
    workspace: {
      workspaceFolder: '/workspaces/my-repo',
      workspaceMount: `type=bind,source=${workspaceDir},target=/workspaces/my-repo`,
    },
  });
});

void test('folderName names the folder in the environment and the basename variable', () => {
  const result = resolve(
    { image: 'x', containerEnv: { N: '${localWorkspaceFolderBasename}' } },
    'app',
  );

  assert.deepStrictEqual(result.workspace, {
    workspaceFolder: '/workspaces/app',
    workspaceMount: `type=bind,source=${workspaceDir},target=/workspaces/app`,
  });
  assert.deepStrictEqual(result.configuration.containerEnv, { N: 'app' });
});

void test('a workspaceFolder without a workspaceMount keeps the default mount target', () => {
  const result = resolve({ image: 'x', workspaceFolder: '/src/${localWorkspaceFolderBasename}' });

  assert.equal(result.configuration.workspaceFolder, '/src/my-repo');
  assert.deepStrictEqual(result.workspace, {
    workspaceFolder: '/src/my-repo',
    workspaceMount: `type=bind,source=${workspaceDir},target=/workspaces/my-repo`,
  });
});

void test('a workspaceMount of its own is substituted and used', () => {
  const result = resolve({
    image: 'x',
    workspaceMount: 'source=${localWorkspaceFolder},target=/w,type=bind',
    workspaceFolder: '/w',
    mounts: ['source=${localWorkspaceFolder}/cache,target=${containerWorkspaceFolder}/c'],
  });

  assert.deepStrictEqual(result.workspace, {
    workspaceFolder: '/w',
    workspaceMount: `source=${workspaceDir},target=/w,type=bind`,
  });
  assert.deepStrictEqual(result.configuration.mounts, [`source=${workspaceDir}/cache,target=/w/c`]);
});

void test('a compose config gets its own folder or / and no mount', () => {
  const bare = resolve({ dockerComposeFile: 'compose.yml', service: 'app' });
  const named = resolve({
    dockerComposeFile: ['a.yml'],
    service: 'app',
    workspaceFolder: '/workspaces/${localWorkspaceFolderBasename}',
    onCreateCommand: 'git config --add safe.directory ${containerWorkspaceFolder}',
  });

  assert.deepStrictEqual(bare.workspace, { workspaceFolder: '/' });
  assert.deepStrictEqual(named.workspace, { workspaceFolder: '/workspaces/my-repo' });
  assert.equal(
    named.configuration.onCreateCommand,
    'git config --add safe.directory /workspaces/my-repo',
  );
});

void test('a compose config that names a workspaceMount reports it, as the reference does', () => {
  const result = resolve({ dockerComposeFile: 'c.yml', service: 's', workspaceMount: 'm' });

  assert.deepStrictEqual(result.workspace, { workspaceFolder: '/', workspaceMount: 'm' });
});

void test('a host path holding a comma is quoted in the default mount', () => {
  const dir = '/data/a,b/repo';
  const result = resolveDevcontainer({
    config: { image: 'x' },
    configPath: `${dir}/.devcontainer.json`,
    workspaceDir: dir,
    localEnv,
  });

  assert.equal(
    result.workspace.workspaceMount,
    `type=bind,"source=${dir}",target=/workspaces/repo`,
  );
});

void test('legacy extensions and settings move under customizations.vscode', () => {
  const config: DevcontainerConfig = {
    name: 'n',
    extensions: ['a.legacy'],
    settings: { 'editor.x': 1, shared: 'legacy' },
    dockerFile: 'Dockerfile',
    appPort: 3000,
  };

  const result = resolve(config);

  assert.deepStrictEqual(Object.keys(result.configuration), [
    'name',
    'dockerFile',
    'appPort',
    'customizations',
    'configFilePath',
  ]);
  assert.deepStrictEqual(result.configuration.customizations, {
    vscode: { extensions: ['a.legacy'], settings: { 'editor.x': 1, shared: 'legacy' } },
  });
  assert.deepStrictEqual(config.extensions, ['a.legacy'], 'the input is not changed');
});

void test('existing vscode extensions come first and existing settings win', () => {
  const config: DevcontainerConfig = {
    customizations: { vscode: { extensions: ['b.new'], settings: { shared: 'new' } }, other: 1 },
    extensions: ['a.legacy'],
    settings: { shared: 'legacy', only: 'legacy' },
  };

  const moved = moveLegacyProperties(config, configPath);

  assert.deepStrictEqual(moved, {
    customizations: {
      vscode: {
        extensions: ['b.new', 'a.legacy'],
        settings: { shared: 'new', only: 'legacy' },
      },
      other: 1,
    },
  });
  assert.deepStrictEqual(config.customizations, {
    vscode: { extensions: ['b.new'], settings: { shared: 'new' } },
    other: 1,
  });
});

void test('devPort moves unless vscode already has one', () => {
  const moved = moveLegacyProperties({ devPort: 8000 }, configPath);
  const kept = moveLegacyProperties(
    { devPort: 8000, customizations: { vscode: { devPort: 1 } } },
    configPath,
  );

  assert.deepStrictEqual(moved, { customizations: { vscode: { devPort: 8000 } } });
  assert.deepStrictEqual(kept, { devPort: 8000, customizations: { vscode: { devPort: 1 } } });
});

void test('a config without legacy fields is returned as it is', () => {
  const config: DevcontainerConfig = { image: 'x', extensions: [] as string[] };
  const none: DevcontainerConfig = { image: 'x' };

  assert.equal(moveLegacyProperties(none, configPath), none);
  assert.deepStrictEqual(moveLegacyProperties(config, configPath), {
    image: 'x',
    customizations: { vscode: { extensions: [] } },
  });
});

void test('a customizations.vscode that is not an object cannot take legacy fields', () => {
  assert.throws(
    () => resolve({ extensions: ['x'], customizations: { vscode: 'nope' } }),
    (error: unknown) =>
      error instanceof HangarError &&
      error.code === 'devcontainer_invalid' &&
      error.message.includes('customizations.vscode'),
  );
});

void test('a folder name that is not one path segment is refused', () => {
  for (const bad of ['', '.', '..', 'a/b']) {
    assert.throws(
      () => resolve({ image: 'x' }, bad),
      (error: unknown) => error instanceof HangarError && error.code === 'invalid_request',
      JSON.stringify(bad),
    );
  }
});
