import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { applyContainerEnv } from './container-env.js';
import {
  substituteContainerEnv,
  substituteDevcontainerId,
  substituteLocal,
  type LocalSubstitutionContext,
} from './substitute.js';

const context: LocalSubstitutionContext = {
  localEnv: { HOME: '/home/dev', EMPTY: '', TZ: undefined },
  localWorkspaceFolder: '/data/ws/repo',
  localWorkspaceFolderBasename: 'repo',
  containerWorkspaceFolder: '/workspaces/${localWorkspaceFolderBasename}',
  configPath: '/data/ws/repo/.devcontainer.json',
};

void test('localEnv reads the given environment, with a default or as ""', () => {
  const value = {
    home: '${localEnv:HOME}/.ssh',
    alias: '${env:HOME}',
    unset: '[${localEnv:NOPE}]',
    fallback: '${localEnv:TZ:America/Los_Angeles}',
    empty: '[${localEnv:EMPTY:default}]',
    home2: '${localHomeFolder}',
  };

  assert.deepStrictEqual(substituteLocal(value, context), {
    home: '/home/dev/.ssh',
    alias: '/home/dev',
    unset: '[]',
    fallback: 'America/Los_Angeles',
    empty: '[]',
    home2: '/home/dev',
  });
});

void test('a default ends at the next colon, as in the reference', () => {
  const result = substituteLocal('${localEnv:URL:http://example.test}', context);

  assert.equal(result, 'http');
});

void test('a variable named on the prototype is not found in the environment', () => {
  assert.equal(substituteLocal('[${localEnv:constructor}]', context), '[]');
});

void test('the workspace folder variables are substituted everywhere', () => {
  const value = {
    mount: 'source=${localWorkspaceFolder}/x,target=${containerWorkspaceFolder}/x',
    list: ['${localWorkspaceFolderBasename}', '${containerWorkspaceFolderBasename}'],
    nested: { deep: ['${containerWorkspaceFolder}'] },
    untouched: [1, true, null],
  };

  assert.deepStrictEqual(substituteLocal(value, context), {
    mount: 'source=/data/ws/repo/x,target=/workspaces/repo/x',
    list: ['repo', 'repo'],
    nested: { deep: ['/workspaces/repo'] },
    untouched: [1, true, null],
  });
});

void test('container variables, devcontainerId and unknown variables stay as written', () => {
  const value = [
    '${containerEnv:PATH}:/bin',
    'vol-${devcontainerId}',
    '${workspaceFolder}',
    '${unknown:thing}',
    '${ not closed',
  ];

  assert.deepStrictEqual(substituteLocal(value, context), value);
});

void test('keys are not substituted and the input is not changed', () => {
  const value = { '${localEnv:HOME}': '${localEnv:HOME}' };

  const result = substituteLocal(value, context);

  assert.deepStrictEqual(result, { '${localEnv:HOME}': '/home/dev' });
  assert.deepStrictEqual(value, { '${localEnv:HOME}': '${localEnv:HOME}' });
});

void test('localEnv without a variable name is an error naming the file', () => {
  assert.throws(
    () => substituteLocal({ a: '${localEnv}' }, context),
    (error: unknown) =>
      error instanceof HangarError &&
      error.code === 'devcontainer_invalid' &&
      error.message.includes('"${localEnv}"') &&
      error.message.includes(context.configPath),
  );
});

void test('substituteContainerEnv reads the container environment, with defaults', () => {
  const env = { PATH: '/usr/bin:/bin', HOME: '/home/node' };
  const value = {
    PATH: '/opt/tool:${containerEnv:PATH}',
    A: '${containerEnv:MISSING:fallback}',
    B: '[${containerEnv:MISSING}]',
    C: '${localEnv:HOME} ${devcontainerId}',
  };

  assert.deepStrictEqual(substituteContainerEnv(value, env), {
    PATH: '/opt/tool:/usr/bin:/bin',
    A: 'fallback',
    B: '[]',
    C: '${localEnv:HOME} ${devcontainerId}',
  });
  assert.throws(() => substituteContainerEnv('${containerEnv}', env), HangarError);
});

void test('substituteDevcontainerId fills in the environment id only', () => {
  const result = substituteDevcontainerId(['h-${devcontainerId}', '${containerEnv:X}'], 'env-1');

  assert.deepStrictEqual(result, ['h-env-1', '${containerEnv:X}']);
});

void test('applyContainerEnv substitutes remoteEnv and the in-environment hooks only', () => {
  const config = {
    remoteEnv: { PATH: '${containerEnv:PATH}:/x', UNSET: null },
    postCreateCommand: { a: 'echo ${containerEnv:HOME}', b: ['ls', '${containerEnv:HOME}'] },
    postStartCommand: 'echo ${containerEnv:HOME}',
    initializeCommand: 'echo ${containerEnv:HOME}',
    containerEnv: { KEEP: '${containerEnv:HOME}' },
  };

  const result = applyContainerEnv(config, { PATH: '/bin', HOME: '/home/u' });

  assert.deepStrictEqual(result, {
    remoteEnv: { PATH: '/bin:/x', UNSET: null },
    postCreateCommand: { a: 'echo /home/u', b: ['ls', '/home/u'] },
    postStartCommand: 'echo /home/u',
    initializeCommand: 'echo ${containerEnv:HOME}',
    containerEnv: { KEEP: '${containerEnv:HOME}' },
  });
  assert.equal(config.postStartCommand, 'echo ${containerEnv:HOME}');
});
