import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Environment, ExecResult } from '@hangar/api';
import type { RunningRunner } from '@hangar/runner';
import { makeRepo } from '@hangar/runner/git/testing/make-repo.js';
import { type CaptureOptions, runMain } from './testing/capture-io.js';
import { startTestControlPlane, type TestControlPlane } from './testing/control-plane.js';
import { startTestRunner } from './testing/runner.js';

let cp: TestControlPlane;
let runner: RunningRunner;
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-env-'));
  // The sandbox user clones the repository and reaches its workspace through this directory.
  await chmod(root, 0o755);
  cp = await startTestControlPlane();
  runner = await startTestRunner(cp, { name: 'sandboxes', dataDir: join(root, 'runner') });
  await makeRepo(join(root, 'demo'), {
    files: {
      '.devcontainer/devcontainer.json':
        '{ // JSONC\n' +
        '  "postCreateCommand": "echo created > created.txt && echo hello from postCreate",\n' +
        '  "postStartCommand": "echo started >> starts.txt",\n}\n',
    },
  });
  await makeRepo(join(root, 'broken'), {
    files: {
      '.devcontainer.json': JSON.stringify({
        postCreateCommand: ['sh', '-c', 'echo line one; echo oops >&2; exit 3'],
      }),
    },
  });
});

after(async () => {
  for (const name of ['demo', 'broken', 'empty']) {
    await run(['env', 'delete', name, '--wait']).catch(() => undefined);
  }
  await runner?.close();
  await cp?.close();
  await rm(root, { recursive: true, force: true });
});

function run(argv: string[], options: CaptureOptions = {}) {
  return runMain(argv, { env: cp.env, cwd: root, ...options });
}

describe('environment commands against a real runner', () => {
  it('env create --wait prints each phase and step and exits 0 once running', async () => {
    const result = await run(['env', 'create', 'demo', '--name', 'demo', '--wait']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^created demo \(env_\w+\) on runner run_\w+$/m);
    assert.match(result.stderr, /^demo: creating$/m);
    assert.match(result.stderr, /^ {2}step clone: running$/m);
    assert.match(result.stderr, /^ {2}step postCreateCommand: running$/m);
    assert.match(result.stderr, /^ {2}step postCreateCommand: succeeded \(/m);
    assert.match(result.stderr, /^demo: running$/m);
    assert.ok(
      result.stderr.indexOf('step postCreateCommand: running') <
        result.stderr.indexOf('demo: running'),
    );
    assert.match(result.stdout, /^demo +env_\w+ +running$/m);
  });

  it('env list and env get show it, in text and JSON', async () => {
    const list = await run(['env', 'list']);
    assert.match(list.stdout, new RegExp(`demo +env_\\w+ +running +running +${runner.runnerId}`));
    const get = await run(['env', 'get', 'demo']);
    assert.match(get.stdout, /^phase: +running \(desired running/m);
    assert.match(get.stdout, new RegExp(`repository: +${join(root, 'demo')}`));
    const body = JSON.parse((await run(['env', 'get', 'demo', '--json'])).stdout) as Environment;
    assert.equal(body.status.phase, 'running');
    const byId = await run(['env', 'get', body.id, '--json']);
    assert.equal((JSON.parse(byId.stdout) as Environment).name, 'demo');
  });

  it('env exec sees what postCreateCommand wrote and passes on the exit code', async () => {
    const cat = await run(['env', 'exec', 'demo', '--', 'cat', 'created.txt']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'created\n');
    const split = await run([
      'env',
      'exec',
      'demo',
      '--',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 7',
    ]);
    assert.equal(split.code, 7);
    assert.equal(split.stdout, 'out\n');
    assert.equal(split.stderr, 'err\n');
    const bare = await run(['env', 'exec', 'demo', 'sh', '-c', 'exit 0']);
    assert.equal(bare.code, 0, bare.stderr);
  });

  it('env exec streams bytes intact: binary, a split character, a 5 MB line', async () => {
    const binary = await run(['env', 'exec', 'demo', '--', 'printf', '\\377\\000\\376']);
    assert.deepEqual(binary.bytes, Buffer.from([0xff, 0x00, 0xfe]));
    const euro = await run([
      'env',
      'exec',
      'demo',
      '--',
      'sh',
      '-c',
      "printf '\\342\\202'; sleep 0.1; printf '\\254'",
    ]);
    assert.equal(euro.stdout, '€');
    const big = await run([
      'env',
      'exec',
      'demo',
      '--',
      'sh',
      '-c',
      "head -c 5000000 /dev/zero | tr '\\000' a",
    ]);
    assert.equal(big.code, 0, big.stderr);
    assert.equal(big.bytes.length, 5000000);
    assert.ok(big.bytes.every((byte) => byte === 0x61));
  });

  it('env exec forwards stdin unless --no-stdin, and sets env and cwd', async () => {
    const echoed = await run(['env', 'exec', 'demo', '--', 'cat'], { stdin: 'piped input\n' });
    assert.equal(echoed.stdout, 'piped input\n');
    const none = await run(['env', 'exec', 'demo', '--no-stdin', '--', 'cat'], { stdin: 'x' });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '');
    const tty = await run(['env', 'exec', 'demo', '--', 'cat'], { stdin: 'x', stdinIsTTY: true });
    assert.equal(tty.stdout, '');
    const env = await run([
      'env',
      'exec',
      'demo',
      '--env',
      'GREETING=hi there',
      '--cwd',
      '/tmp',
      '--',
      'sh',
      '-c',
      'echo "$GREETING"; pwd',
    ]);
    assert.equal(env.stdout, 'hi there\n/tmp\n');
  });

  it('env exec exits 124 on --timeout and 128+n when signal n kills the command', async () => {
    const slow = await run(['env', 'exec', 'demo', '--timeout', '0.3', '--', 'sleep', '30']);
    assert.equal(slow.code, 124);
    assert.match(slow.stderr, /timed out/);
    const killed = await run(['env', 'exec', 'demo', '--', 'sh', '-c', 'kill -KILL $$']);
    assert.equal(killed.code, 137);
  });

  it('env exec --json prints the buffered result and still exits with its code', async () => {
    const result = await run([
      'env',
      'exec',
      'demo',
      '--json',
      '--',
      'sh',
      '-c',
      'printf x; exit 3',
    ]);
    assert.equal(result.code, 3);
    const body = JSON.parse(result.stdout) as ExecResult;
    assert.equal(body.exitCode, 3);
    assert.equal(Buffer.from(body.stdout, 'base64').toString(), 'x');
  });

  it('env logs prints the lifecycle log straight from the runner', async () => {
    const logs = await run(['env', 'logs', 'demo']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /\[postCreateCommand\] hello from postCreate/);
    const body = JSON.parse((await run(['env', 'logs', 'demo', '--json'])).stdout) as {
      log: string;
    };
    assert.match(body.log, /postStartCommand/);
  });

  it('env stop and start --wait keep the workspace; postStartCommand runs each start', async () => {
    const stop = await run(['env', 'stop', 'demo', '--wait']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /^stopping demo$/m);
    assert.match(stop.stderr, /^demo: stopped$/m);
    assert.doesNotMatch(stop.stderr, /step clone/);
    const again = await run(['env', 'stop', 'demo', '--wait']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /demo is already stopped/);
    const refused = await run(['env', 'exec', 'demo', '--', 'true']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error environment_not_running: environment demo is stopped/);
    const start = await run(['env', 'start', 'demo', '--wait']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stderr, /step postStartCommand: succeeded/);
    const starts = await run(['env', 'exec', 'demo', '--', 'cat', 'created.txt', 'starts.txt']);
    assert.equal(starts.stdout, 'created\nstarted\nstarted\n');
  });

  it('env create --wait of a failing lifecycle command exits 1 with the log end', async () => {
    const result = await run(['env', 'create', './broken', '--name', 'broken', '--wait']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /step postCreateCommand: failed, exit code 3/);
    assert.match(
      result.stderr,
      /broken failed in postCreateCommand, exit code 3: LifecycleCommandFailed/,
    );
    assert.match(result.stderr, /last \d+ lines of the lifecycle log:/);
    assert.match(result.stderr, /\| \[postCreateCommand\] oops/);
    assert.match(result.stdout, /^broken +env_\w+ +failed$/m);
  });

  it('env create --wait of a missing repository exits 1 with the reason', async () => {
    const result = await run(['env', 'create', join(root, 'nope'), '--name', 'nope', '--wait']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /nope failed in clone: /);
    assert.equal((await run(['env', 'delete', 'nope', '--wait'])).code, 0);
  });

  it('env create without a repository makes an empty workspace', async () => {
    const result = await run(['env', 'create', '--name', 'empty', '--wait', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as Environment).status.phase, 'running');
    const ls = await run(['env', 'exec', 'empty', '--', 'ls', '-A']);
    assert.equal(ls.stdout, '');
  });

  it('env delete --wait removes them; the audit chain still verifies', async () => {
    for (const name of ['demo', 'broken', 'empty']) {
      const result = await run(['env', 'delete', name, '--wait']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`^${name}: deleted$`, 'm'));
    }
    const list = await run(['env', 'list']);
    assert.match(list.stdout, /no environments/);
    const verify = await run(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
  });
});
