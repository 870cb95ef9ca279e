import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readDevcontainer } from './index.js';

/** The environment the reference ran with, as the corpus README gives it (less its shim). */
const corpusEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/dev',
  USER: 'dev',
  HANGAR_FIXTURE_VAR: 'fixture-value',
};

/** The fields the corpus README lists as the ones that matter to a runtime. */
const runtimeFields = [
  'initializeCommand',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
  'waitFor',
  'containerEnv',
  'remoteEnv',
  'forwardPorts',
  'portsAttributes',
  'otherPortsAttributes',
  'appPort',
  'workspaceFolder',
  'workspaceMount',
  'remoteUser',
  'containerUser',
  'image',
  'build',
  'dockerFile',
  'context',
  'dockerComposeFile',
  'service',
  'runServices',
  'features',
  'overrideFeatureInstallOrder',
  'mounts',
  'runArgs',
  'privileged',
  'capAdd',
  'overrideCommand',
  'shutdownAction',
  'hostRequirements',
];

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (parsed.name === 'hangar') return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no hangar package.json above ${start}`);
  }
}

const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
const corpusDir = path.join(repoRoot, '..', 'shared', 'fixtures', 'devcontainer');

function replaceToken(value: unknown, token: string, replacement: string): unknown {
  if (typeof value === 'string') return value.split(token).join(replacement);
  if (Array.isArray(value)) return value.map((item) => replaceToken(item, token, replacement));
  if (typeof value !== 'object' || value === null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(result, key, {
      value: replaceToken(item, token, replacement),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

let tempRoot = '';

before(async () => {
  tempRoot = await mkdtemp(path.join(tmpdir(), 'hangar-devcontainer-corpus-'));
});

after(async () => {
  if (tempRoot !== '') await rm(tempRoot, { recursive: true, force: true });
});

const caseNames = (await readdir(corpusDir, { withFileTypes: true }))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

void test('the corpus holds the 35 cases its README describes', () => {
  assert.equal(caseNames.length, 35);
});

for (const caseName of caseNames) {
  void test(`corpus case ${caseName} resolves as the reference does`, async () => {
    const caseDir = path.join(tempRoot, caseName);
    await cp(path.join(corpusDir, caseName), caseDir, { recursive: true });
    const expectedText = await readFile(path.join(caseDir, 'expected.json'), 'utf8');
    const expectedRaw = JSON.parse(expectedText) as Record<string, unknown>;
    const expected = replaceToken(expectedRaw, '${FIXTURE_DIR}', caseDir) as {
      configuration: Record<string, unknown>;
      workspace: Record<string, unknown>;
      [key: string]: unknown;
    };

    const result = await readDevcontainer({ workspaceDir: caseDir, localEnv: corpusEnv });

    assert.ok(result !== null, 'a config is found');
    const configuration = result.config.configuration as Record<string, unknown>;
    for (const field of runtimeFields) {
      assert.deepStrictEqual(configuration[field], expected.configuration[field], field);
    }
    assert.deepStrictEqual(result.config.workspace, expected.workspace, 'workspace');
    assert.equal(
      result.configPath,
      (expected.configuration.configFilePath as { fsPath: string }).fsPath,
    );
    assert.deepStrictEqual(Object.keys(expected), [
      'configuration',
      'workspace',
      'ociAuthDiagnostics',
    ]);
    const comparable = { configuration: expected.configuration, workspace: expected.workspace };
    assert.deepStrictEqual(result.config, comparable);
    assert.equal(JSON.stringify(result.config), JSON.stringify(comparable), 'same key order');
  });
}
