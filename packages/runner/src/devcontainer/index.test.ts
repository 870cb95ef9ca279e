import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HangarError } from '@hangar/api';
import { readDevcontainer } from './index.js';

let tempRoot = '';
let counter = 0;

before(async () => {
  tempRoot = await mkdtemp(path.join(tmpdir(), 'hangar-devcontainer-read-all-'));
});

after(async () => {
  if (tempRoot !== '') await rm(tempRoot, { recursive: true, force: true });
});

async function makeWorkspace(files: Record<string, string>): Promise<string> {
  counter += 1;
  const ws = path.join(tempRoot, `case-${counter}`, 'service');
  await mkdir(ws, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(ws, name)), { recursive: true });
    await writeFile(path.join(ws, name), content);
  }
  return ws;
}

void test('a folder without a devcontainer config reads as null', async () => {
  const ws = await makeWorkspace({ 'main.go': 'package main' });

  assert.equal(await readDevcontainer({ workspaceDir: ws, localEnv: {} }), null);
});

void test('a config is found, parsed and resolved in one call', async () => {
  const ws = await makeWorkspace({
    '.devcontainer/devcontainer.json': [
      '{',
      '  // JSONC with a trailing comma',
      '  "image": "node:20",',
      '  "remoteEnv": { "TOKEN_DIR": "${localEnv:HOME}/t", "PATH": "${containerEnv:PATH}" },',
      '  "postCreateCommand": "npm ci --prefix ${containerWorkspaceFolder}",',
      '}',
    ].join('\n'),
  });

  const result = await readDevcontainer({
    workspaceDir: ws,
    localEnv: { HOME: '/home/runner-user' },
    folderName: 'api',
  });

  const configPath = path.join(ws, '.devcontainer', 'devcontainer.json');
  assert.equal(result?.configPath, configPath);
  assert.deepStrictEqual(result?.config, {
    configuration: {
      image: 'node:20',
      remoteEnv: { TOKEN_DIR: '/home/runner-user/t', PATH: '${containerEnv:PATH}' },
      postCreateCommand: 'npm ci --prefix /workspaces/api',
      configFilePath: { $mid: 1, fsPath: configPath, path: configPath, scheme: 'vscode-fileHost' },
    },
    workspace: {
      workspaceFolder: '/workspaces/api',
      workspaceMount: `type=bind,source=${ws},target=/workspaces/api`,
    },
  });
});

void test('only the given localEnv is read, never the process environment', async () => {
  const ws = await makeWorkspace({
    '.devcontainer.json': '{ "containerEnv": { "P": "${localEnv:PATH}" } }',
  });

  const result = await readDevcontainer({ workspaceDir: ws, localEnv: {} });

  assert.deepStrictEqual(result?.config.configuration.containerEnv, { P: '' });
});

void test('a named config path is read', async () => {
  const ws = await makeWorkspace({
    '.devcontainer.json': '{ "image": "default" }',
    'envs/gpu/devcontainer.json': '{ "image": "gpu" }',
  });

  const result = await readDevcontainer({
    workspaceDir: ws,
    configPath: 'envs/gpu/devcontainer.json',
    localEnv: {},
  });

  assert.equal(result?.config.configuration.image, 'gpu');
});

void test('a malformed config fails with its path, line and column', async () => {
  const ws = await makeWorkspace({ '.devcontainer.json': '{\n  "image": "x",\n  "runArgs": [\n}' });
  const configPath = path.join(ws, '.devcontainer.json');

  await assert.rejects(readDevcontainer({ workspaceDir: ws, localEnv: {} }), (error: unknown) => {
    assert.ok(error instanceof HangarError);
    assert.equal(error.code, 'devcontainer_invalid');
    assert.deepStrictEqual(error.details, { path: configPath, line: 4, column: 1 });
    assert.ok(error.message.startsWith(`${configPath} is not valid JSON: line 4, column 1`));
    return true;
  });
});

void test('a config that is a symlink out of the folder is refused', async () => {
  const ws = await makeWorkspace({});
  const outside = path.join(path.dirname(ws), 'secret.json');
  await writeFile(outside, '{ "image": "x" }');
  await symlink(outside, path.join(ws, '.devcontainer.json'));

  await assert.rejects(
    readDevcontainer({ workspaceDir: ws, localEnv: {} }),
    /outside the repository/,
  );
});

void test('a path escape in the named config path is refused', async () => {
  const ws = await makeWorkspace({ '.devcontainer.json': '{}' });

  await assert.rejects(
    readDevcontainer({ workspaceDir: ws, configPath: '../../etc/passwd', localEnv: {} }),
    /leaves the repository/,
  );
});
