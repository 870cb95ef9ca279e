import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { main } from '../main.js';
import { captureIo } from '../testing/capture-io.js';

interface ReadResult {
  configPath: string;
  config: { configuration: Record<string, unknown>; workspace: Record<string, unknown> };
}

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-devcontainer-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  const io = captureIo({ cwd: root, env });
  const code = await main(argv, io);
  return { code, stdout: io.stdout.text(), stderr: io.stderr.text() };
}

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('hangar devcontainer read', () => {
  it('prints the resolved JSONC configuration, ${localEnv} from this shell', async () => {
    await folder('app', {
      '.devcontainer/devcontainer.json':
        '{\n  // comment\n  "name": "app // not a comment",\n' +
        '  "containerEnv": { "WHO": "${localEnv:WHO_AM_I:nobody}" },\n' +
        '  "postCreateCommand": "make",\n}\n',
    });
    const result = await run(['devcontainer', 'read', 'app', '--json'], { WHO_AM_I: 'tester' });
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as ReadResult;
    assert.equal(body.configPath, join(root, 'app', '.devcontainer', 'devcontainer.json'));
    assert.equal(body.config.configuration.name, 'app // not a comment');
    assert.deepEqual(body.config.configuration.containerEnv, { WHO: 'tester' });
    assert.equal(body.config.workspace.workspaceFolder, '/workspaces/app');
    const text = await run(['devcontainer', 'read', 'app'], { WHO_AM_I: 'tester' });
    assert.equal(text.stdout, result.stdout);
  });

  it('reads the file --config names', async () => {
    await folder('custom', { 'conf/dc.json': '{ "name": "custom" }' });
    const result = await run(['devcontainer', 'read', 'custom', '--config', 'conf/dc.json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as ReadResult).config.configuration.name, 'custom');
  });

  it('names the line and column of a malformed file', async () => {
    await folder('broken', { '.devcontainer.json': '{\n  "name": "x",\n  "image": \n}\n' });
    const result = await run(['devcontainer', 'read', 'broken']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error devcontainer_invalid: .*\.devcontainer\.json.*line 4, column 1/,
    );
    assert.equal(result.stdout, '');
  });

  it('says where it looked when a folder has no configuration', async () => {
    await mkdir(join(root, 'plain'));
    const result = await run(['devcontainer', 'read', 'plain']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error not_found: .*plain holds no devcontainer configuration \(looked for \.devcontainer\/devcontainer\.json, \.devcontainer\.json\)/,
    );
  });

  it('agrees with the reference on a real-world configuration', async (t) => {
    const corpus = join(
      fileURLToPath(import.meta.url),
      '../../../../../../shared/fixtures/devcontainer',
    );
    const source = join(corpus, '05-devcontainers--cli');
    if (!existsSync(source)) {
      t.skip(`the shared devcontainer fixtures are not at ${corpus}`);
      return;
    }
    const caseDir = join(root, 'fixtures', '05-devcontainers--cli');
    await cp(source, caseDir, { recursive: true });
    const expectedText = (await readFile(join(caseDir, 'expected.json'), 'utf8')).replaceAll(
      '${FIXTURE_DIR}',
      caseDir,
    );
    const expected = JSON.parse(expectedText) as ReadResult['config'];
    const result = await run(['devcontainer', 'read', caseDir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as ReadResult;
    for (const field of [
      'name',
      'build',
      'mounts',
      'postCreateCommand',
      'remoteUser',
      'features',
    ]) {
      assert.deepEqual(body.config.configuration[field], expected.configuration[field], field);
    }
    assert.deepEqual(body.config.workspace, expected.workspace);
  });
});
