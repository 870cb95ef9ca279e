import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawn as spawnPty, type IPty } from 'node-pty';
import type { Environment } from '@hangar/api';
import { captureLogs } from '../support/capture-logs.js';
import { hangar } from '../support/cli.js';
import {
  makeSshKey,
  pinGateway,
  runProgram,
  ssh,
  sshCommandLine,
  sshInBackground,
  sshOptions,
  type SshKey,
  type SshTarget,
} from '../support/ssh.js';
import { startSystem, type System } from '../support/system.js';

let system: System;
let logs: () => string;
let environment: Environment;
let key: SshKey;
let wrongKey: SshKey;
let target: SshTarget;
let cli: NodeJS.ProcessEnv;
/** Typed into sessions and moved through them; must never reach the control plane. */
const canary = `canary-${randomBytes(6).toString('hex')}`;

before(
  async () => {
    const captured = captureLogs();
    logs = captured.text;
    system = await startSystem({ logger: captured.logger });
    environment = await system.createAndWait({ name: 'box' });
    key = await makeSshKey(system.dir, 'id_good');
    wrongKey = await makeSshKey(system.dir, 'id_wrong');
    const added = await system.api('POST', '/v1/ssh-keys', { publicKey: key.publicLine });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const knownHosts = await pinGateway(system.dir, system.runner.ssh);
    target = { port: system.runner.ssh.port, knownHosts, key: key.path };
    cli = {
      HANGAR_URL: system.cp.url,
      HANGAR_TOKEN: system.token,
      HANGAR_HOME: join(system.dir, 'cli-home'),
    };
  },
  { timeout: 120_000 },
);

after(async () => {
  await system.close();
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} never happened`);
}

test('hangar ssh pins the host key and runs a command, returning its exit code', async () => {
  const ran = await hangar(
    ['ssh', 'box', '--identity', key.path, '--', `echo ${canary}-exec; exit 3`],
    cli,
  );
  assert.equal(ran.code, 3, ran.stderr);
  assert.equal(ran.stdout, `${canary}-exec\n`);
  const pinned = await readFile(join(system.dir, 'cli-home', 'ssh', 'known_hosts'), 'utf8');
  assert.match(pinned, new RegExp(`^hangar-${system.runner.runnerId} ssh-ed25519 `, 'm'));

  const direct = await ssh(target, environment.id, 'exit 7');
  assert.equal(direct.code, 7, direct.stderr);
  const byName = await ssh(target, 'box', 'echo by-name');
  assert.equal(byName.stdout.toString(), 'by-name\n', byName.stderr);
});

test('an interactive session under a PTY sees a prompt, its size and a resize', async () => {
  const args = [
    ...sshOptions(target),
    '-tt',
    '-p',
    String(target.port),
    `${environment.id}@127.0.0.1`,
  ];
  const terminal: IPty = spawnPty('ssh', args, { cols: 80, rows: 24, name: 'xterm' });
  let screen = '';
  terminal.onData((data) => (screen += data));
  const exited = new Promise<number>((resolve) =>
    terminal.onExit(({ exitCode }) => resolve(exitCode)),
  );
  const sees = (pattern: RegExp) =>
    waitFor(`the terminal showing ${pattern}`, async () =>
      pattern.test(screen) ? true : undefined,
    );
  // The window change travels apart from what is typed: under load it can reach the shell after
  // a `stty size` typed at once has run. Ask again, a bounded number of times, until it shows.
  const seesResized = async () => {
    for (let attempt = 1; ; attempt += 1) {
      const from = screen.length;
      terminal.write('stty size\r');
      const answer = await waitFor(
        'stty answering',
        async () => /^\d+ \d+\r?$/m.exec(screen.slice(from))?.[0],
      );
      if (/^40 120\r?$/.test(answer)) return;
      assert.ok(attempt < 20, `stty still says ${answer.trim()} after ${attempt} tries`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  try {
    await sees(/[$#] $/);
    terminal.write('stty size\r');
    await sees(/^24 80\r?$/m);
    terminal.resize(120, 40);
    await seesResized();
    terminal.write(`echo typed-${canary}\r`);
    await sees(new RegExp(`^typed-${canary}\\r?$`, 'm'));
    terminal.write('exit 0\r');
    assert.equal(await exited, 0);
  } finally {
    terminal.kill();
  }
  const withTerminal = await ssh(target, environment.id, 'test -t 0 && test -t 1 && exit 5', {
    extra: ['-tt'],
  });
  assert.equal(withTerminal.code, 5, 'a command under a PTY returns its exit status');
});

test('scp copies a 50 MB file both ways with the same SHA-256', { timeout: 180_000 }, async () => {
  const payload = randomBytes(50 * 1024 * 1024);
  const local = join(system.dir, 'upload.bin');
  await writeFile(local, payload);
  const scp = (from: string, to: string) =>
    runProgram('scp', [...sshOptions(target), '-P', String(target.port), from, to]);
  const up = await scp(local, `${environment.id}@127.0.0.1:upload.bin`);
  assert.equal(up.code, 0, up.stderr);
  const inside = await ssh(target, environment.id, 'sha256sum upload.bin');
  assert.equal(inside.stdout.toString().split(' ')[0], sha256(payload));
  const back = join(system.dir, 'download.bin');
  const down = await scp(`${environment.id}@127.0.0.1:upload.bin`, back);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(sha256(await readFile(back)), sha256(payload));
});

test('sftp lists a directory', async () => {
  const made = await ssh(
    target,
    environment.id,
    'mkdir -p listed && touch listed/a.txt listed/b.txt',
  );
  assert.equal(made.code, 0, made.stderr);
  const ran = await runProgram(
    'sftp',
    [...sshOptions(target), '-P', String(target.port), '-b', '-', `${environment.id}@127.0.0.1`],
    { input: 'ls -1 listed\n' },
  );
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout.toString(), /listed\/a\.txt\n.*listed\/b\.txt/s);
});

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

test('ssh -L reaches a web server started inside the environment', async () => {
  const localPort = await freePort();
  const server =
    "require('http').createServer((q, s) => s.end('hello from inside')).listen(8123, '127.0.0.1')";
  const client = sshInBackground(target, environment.id, {
    extra: ['-L', `${localPort}:localhost:8123`],
    command: `node -e "${server}"`,
  });
  try {
    const body = await waitFor('the forwarded page', async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${localPort}/`);
        return await response.text();
      } catch {
        return undefined;
      }
    });
    assert.equal(body, 'hello from inside');
  } finally {
    client.kill('SIGTERM');
    await once(client, 'close');
  }
});

test('a wrong key is refused and audited, by fingerprint', async () => {
  const refused = await ssh({ ...target, key: wrongKey.path }, environment.id, 'true');
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /Permission denied \(publickey\)/);
  const records = await waitFor('the refusal in the audit log', async () => {
    const { body } = await system.api<{ records: Array<{ details: Record<string, unknown> }> }>(
      'GET',
      '/v1/audit?action=access.denied',
    );
    const mine = body.records.filter(
      (record) => record.details.keyFingerprint === wrongKey.fingerprint,
    );
    return mine.length > 0 ? mine : undefined;
  });
  assert.ok(records.length >= 1);
  const text = JSON.stringify(records);
  assert.ok(
    !text.includes(wrongKey.publicLine.split(' ')[1] ?? '-'),
    'the key itself is not recorded',
  );
});

test('rsync -e ssh syncs a tree', async () => {
  const tree = join(system.dir, 'tree');
  await mkdir(join(tree, 'nested', 'deeper'), { recursive: true });
  const files: Record<string, string> = {
    'top.txt': 'top',
    'nested/middle.txt': `middle ${canary}`,
    'nested/deeper/bottom.bin': randomBytes(300_000).toString('base64'),
  };
  for (const [path, content] of Object.entries(files)) await writeFile(join(tree, path), content);
  const synced = await runProgram('rsync', [
    '-a',
    '-e',
    sshCommandLine(target),
    `${tree}/`,
    `${environment.id}@127.0.0.1:synced/`,
  ]);
  assert.equal(synced.code, 0, synced.stderr);
  const listed = await ssh(
    target,
    environment.id,
    'cd synced && find . -type f | sort && cat nested/middle.txt',
  );
  assert.equal(
    listed.stdout.toString(),
    `./nested/deeper/bottom.bin\n./nested/middle.txt\n./top.txt\nmiddle ${canary}`,
  );
  const again = await runProgram('rsync', [
    '-a',
    '--itemize-changes',
    '-e',
    sshCommandLine(target),
    `${tree}/`,
    `${environment.id}@127.0.0.1:synced/`,
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.toString(), '', 'nothing left to send the second time');
});

test('git clones over SSH from a bare repository inside the environment', async () => {
  const folder = environment.status.workspaceFolder ?? '';
  assert.ok(folder.startsWith('/'));
  const made = await ssh(
    target,
    environment.id,
    'git init -q --bare served.git && git init -q seed && cd seed && ' +
      `echo ${canary} > README && git add README && ` +
      'git -c user.email=t@example.com -c user.name=t commit -q -m first && ' +
      'git push -q ../served.git HEAD:refs/heads/main',
  );
  assert.equal(made.code, 0, made.stderr);
  const clone = join(system.dir, 'cloned');
  const cloned = await runProgram(
    'git',
    [
      'clone',
      '-q',
      '-b',
      'main',
      `ssh://${environment.id}@127.0.0.1:${target.port}${folder}/served.git`,
      clone,
    ],
    { env: { GIT_SSH_COMMAND: sshCommandLine(target) } },
  );
  assert.equal(cloned.code, 0, cloned.stderr);
  assert.equal(await readFile(join(clone, 'README'), 'utf8'), `${canary}\n`);
});

test('hangar ssh-config writes a Host block that plain ssh uses', async () => {
  const config = join(system.dir, 'ssh_config');
  const wrote = await hangar(['ssh-config', '--write-to', config, '--identity', key.path], cli);
  assert.equal(wrote.code, 0, wrote.stderr);
  const text = await readFile(config, 'utf8');
  assert.match(text, /^Host box\.hangar$/m);
  const ran = await runProgram('ssh', [
    '-F',
    config,
    '-o',
    'BatchMode=yes',
    'box.hangar',
    'echo via-config',
  ]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.toString(), 'via-config\n');
});

test('removing the key ends its live SSH session', { timeout: 60_000 }, async () => {
  const other = await makeSshKey(system.dir, 'id_revoked');
  const added = await system.api<{ id: string }>('POST', '/v1/ssh-keys', {
    publicKey: other.publicLine,
  });
  assert.equal(added.status, 201);
  const client = sshInBackground({ ...target, key: other.path }, environment.id, {
    extra: [],
    command: 'sleep 600',
  });
  const closed = once(client, 'close');
  const session = await waitFor('the ssh session', async () => {
    const started = await recordsOf('session.start');
    return started.find((record) => record.details.keyFingerprint === other.fingerprint);
  });
  const removed = await system.api('DELETE', `/v1/ssh-keys/${added.body.id}`);
  assert.equal(removed.status, 200);
  await closed;
  const end = await waitFor('the session end', async () => {
    const ended = await recordsOf('session.end');
    return ended.find((record) => record.details.session === session.details.session);
  });
  assert.equal(end.outcome, 'denied');
});

async function recordsOf(action: string) {
  const { body } = await system.api<{
    records: Array<{ outcome: string; details: Record<string, unknown> }>;
  }>('GET', `/v1/audit?action=${action}`);
  return body.records;
}

test('no byte typed into or moved through a session reaches the control plane', async () => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const dir = join(system.dir, 'control-plane');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = await Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) => readFile(join(entry.parentPath, entry.name))),
  );
  assert.ok(files.length > 0);
  for (const content of files)
    assert.ok(!content.includes(canary), 'the canary is in the control plane data');
  assert.ok(logs().length > 0);
  assert.ok(!logs().includes(canary), 'the canary is in a log line');
});

test('stopping the environment ends its live SSH session', { timeout: 60_000 }, async () => {
  const earlier = new Set((await recordsOf('session.start')).map((r) => r.details.session));
  const client = sshInBackground(target, environment.id, { extra: [], command: 'sleep 600' });
  const closed = once(client, 'close');
  const session = await waitFor('the ssh session', async () => {
    const started = await recordsOf('session.start');
    return started.find(
      (record) => record.details.kind === 'ssh' && !earlier.has(record.details.session),
    );
  });
  const stopped = await system.api('POST', `/v1/environments/${environment.id}/stop`);
  assert.equal(stopped.status, 202, JSON.stringify(stopped.body));
  await closed;
  const end = await waitFor('the session end', async () => {
    const ended = await recordsOf('session.end');
    const match = ended.find((record) => record.details.session === session.details.session);
    return match?.details.reason === undefined ? undefined : match;
  });
  assert.match(String(end.details.reason), /stopping/);
  await system.waitFor(environment.id, 'stopped');
});
