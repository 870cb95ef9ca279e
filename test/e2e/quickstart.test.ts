import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { devcontainer, repository } from '../support/repos.js';
import { hangar, startDaemon, type Daemon } from '../support/cli.js';

const run = promisify(execFile);
let dir: string;
let env: NodeJS.ProcessEnv;
let up: Daemon;

before(
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'hangar-e2e-'));
    await chmod(dir, 0o711);
    env = { HANGAR_HOME: join(dir, 'home') };
    up = startDaemon(['up', '--port', '0', '--gateway-port', '0', '--json'], env);
    await up.summary;
  },
  { timeout: 120_000 },
);

after(async () => {
  await up.stop();
  await rm(dir, { recursive: true, force: true });
});

async function sandboxProcesses(environmentId: string): Promise<number> {
  const { stdout } = await run('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((line) => line.includes(environmentId)).length;
}

test(
  'the quick start: create, exec, stop, start, delete, verify, tamper',
  { timeout: 180_000 },
  async () => {
    const summary = await up.summary;
    const credentials = await stat(String(summary.credentialsPath));
    assert.equal(credentials.mode & 0o777, 0o600);
    const repo = await repository(dir, 'quick', {
      files: {
        '.devcontainer/devcontainer.json': devcontainer({
          postCreateCommand: 'echo from-post-create > created.txt',
          postStartCommand: 'echo started >> starts.txt',
        }),
      },
    });
    const created = await hangar(['env', 'create', repo.dir, '--name', 'quick', '--wait'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /postCreateCommand/);
    assert.match(created.stderr, /running/);

    const seen = await hangar(['env', 'exec', 'quick', '--', 'cat', 'created.txt'], env);
    assert.equal(seen.code, 0, seen.stderr);
    assert.equal(seen.stdout, 'from-post-create\n');
    const failing = await hangar(['env', 'exec', 'quick', '--', 'sh', '-c', 'exit 5'], env);
    assert.equal(failing.code, 5);

    assert.equal((await hangar(['env', 'stop', 'quick', '--wait'], env)).code, 0);
    assert.equal((await hangar(['env', 'start', 'quick', '--wait'], env)).code, 0);
    const starts = await hangar(
      ['env', 'exec', 'quick', '--', 'cat', 'created.txt', 'starts.txt'],
      env,
    );
    assert.equal(starts.stdout, 'from-post-create\nstarted\nstarted\n');

    const got = await hangar(['env', 'get', 'quick', '--json'], env);
    const environment = JSON.parse(got.stdout) as { id: string };
    assert.equal((await hangar(['env', 'delete', 'quick', '--wait'], env)).code, 0);
    assert.equal(await sandboxProcesses(environment.id), 0);
    const left = await readdir(join(dir, 'home', 'runner', 'environments'));
    assert.deepEqual(left, []);

    const verified = await hangar(['audit', 'verify'], env);
    assert.equal(verified.code, 0, verified.stderr);

    const db = new Database(join(dir, 'home', 'control-plane', 'control-plane.db'));
    try {
      db.prepare('UPDATE audit_records SET details = \'{"edited":true}\' WHERE seq = 4').run();
    } finally {
      db.close();
    }
    const broken = await hangar(['audit', 'verify'], env);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout + broken.stderr, /seq 4/);
  },
);

test(
  'running `hangar up` again keeps every record and brings environments back',
  { timeout: 180_000 },
  async () => {
    const made = await hangar(['env', 'create', '--name', 'survivor', '--wait'], env);
    assert.equal(made.code, 0, made.stderr);
    const before = await hangar(['audit', 'list', '--all', '--json'], env);
    const countBefore = (JSON.parse(before.stdout) as { records: unknown[] }).records.length;
    assert.equal(await up.stop('SIGINT'), 0);
    const { stdout } = await run('ps', ['-eo', 'args']);
    assert.doesNotMatch(stdout, /bwrap --unshare/, 'Ctrl-C stops every sandbox');

    up = startDaemon(['up', '--port', '0', '--gateway-port', '0', '--json'], env);
    await up.summary;
    const waited = await hangar(['env', 'start', 'survivor', '--wait'], env);
    assert.equal(waited.code, 0, waited.stderr);
    const exec = await hangar(['env', 'exec', 'survivor', '--', 'echo', 'back'], env);
    assert.equal(exec.stdout, 'back\n');
    const afterList = await hangar(['audit', 'list', '--all', '--json'], env);
    assert.ok(
      (JSON.parse(afterList.stdout) as { records: unknown[] }).records.length > countBefore,
    );
  },
);
