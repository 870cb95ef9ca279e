import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { environmentPaths } from './layout.js';
import { readRecord } from './records.js';
import { envdHostPid } from './teardown.js';
import {
  run,
  sandboxFixture,
  shell,
  testUser,
  startSandbox,
  type SandboxFixture,
  type StartedSandbox,
} from './test-support.js';

let fixture: SandboxFixture;
let first: StartedSandbox;
let second: StartedSandbox;

before(async () => {
  fixture = sandboxFixture();
  first = await startSandbox(fixture);
  second = await startSandbox(fixture);
});

after(async () => {
  first.client.close();
  second.client.close();
  await fixture.cleanup();
});

test('a process inside cannot read a host file outside its mounts', async () => {
  const secret = join(fixture.root, 'secret.txt');
  writeFileSync(secret, 'host secret\n', { mode: 0o644 });
  const result = await run(first.client, ['cat', secret]);
  assert.notEqual(result.outcome.exitCode, 0);
  assert.match(result.stderr.toString(), /No such file or directory/);
  assert.equal(result.stdout.length, 0);

  const config = environmentPaths(fixture.dataDir, first.id).envdConfig;
  const shadow = await run(first.client, ['sh', '-c', `cat /etc/shadow ${config} /root/.bashrc`]);
  assert.notEqual(shadow.outcome.exitCode, 0);
  assert.equal(shadow.stdout.length, 0);
  // The host's temp dir is not the sandbox's /tmp: the same path names nothing inside.
  await assert.rejects(first.client.readFile(secret), { code: 'not_found' });
});

test("the sandbox's /etc is generated and holds no host secrets", async () => {
  const listing = (await shell(first.client, 'ls -A /etc')).split('\n');
  for (const name of [
    'shadow',
    'gshadow',
    'ssh',
    'machine-id',
    'resolv.conf',
    'sudoers',
    'npmrc',
  ]) {
    assert.ok(!listing.includes(name), `/etc/${name} must not be in the sandbox`);
  }
  if (existsSync('/usr/bin/java')) {
    const java = await run(first.client, ['java', '-version']);
    assert.equal(java.outcome.exitCode, 0, `java runs: ${java.stderr.toString()}`);
  }
  const passwd = await shell(first.client, 'cat /etc/passwd');
  assert.match(passwd, /^dev:x:1000:1000:dev:\/home\/dev:/m);
  assert.equal(
    (await shell(first.client, 'id -un; hostname')).trim(),
    `dev\n${first.id.replace('_', '-')}`,
  );
});

test('a process inside cannot see host processes or other environments', async () => {
  const marker = '987654';
  const started = await run(second.client, ['sh', '-c', `sleep ${marker} & echo started`]);
  assert.equal(started.stdout.toString(), 'started\n');
  assert.match(await shell(second.client, 'pgrep -x sleep'), /^\d+\n$/, 'it runs there');
  const seen = await shell(first.client, 'cat /proc/[0-9]*/cmdline | tr "\\0" " "');
  assert.ok(!seen.includes(marker), "the other environment's process is invisible");
  assert.ok(
    !seen.includes('process_api') && !seen.includes('--test'),
    'host processes are invisible',
  );
  const pids = (await shell(first.client, 'ls /proc'))
    .split('\n')
    .filter((name) => /^\d+$/.test(name));
  assert.ok(pids.length < 10, `only the sandbox's own few processes: ${pids.join(' ')}`);
  assert.ok(!pids.includes(String(process.pid)) || process.pid < 10);

  writeFileSync(join(second.volume, 'only-in-second.txt'), 'second');
  const look = await run(first.client, [
    'ls',
    '/workspaces/repo/only-in-second.txt',
    second.volume,
  ]);
  assert.notEqual(look.outcome.exitCode, 0);
});

test('a process inside cannot reach the network, not even the host loopback', async () => {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const script =
      `require('net').connect(${port}, '127.0.0.1')` +
      `.on('connect', () => process.stdout.write('connected\\n', () => process.exit(0)))` +
      `.on('error', (e) => process.stdout.write(e.code + '\\n', () => process.exit(3)))`;
    const result = await run(first.client, ['/run/hangar/node', '-e', script]);
    assert.equal(result.outcome.exitCode, 3);
    assert.equal(result.stdout.toString().trim(), 'ECONNREFUSED');
    assert.equal(connections, 0);
    const devices = await shell(first.client, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assert.deepEqual(devices.trim().split('\n'), ['lo']);
  } finally {
    server.close();
  }
});

test('a process inside cannot write the image, /etc or the root', async () => {
  for (const path of ['/usr/hangar-probe', '/etc/hangar-probe', '/hangar-probe']) {
    const result = await run(first.client, ['touch', path]);
    assert.notEqual(result.outcome.exitCode, 0, `${path} must not be writable`);
    assert.match(result.stderr.toString(), /Read-only file system|Permission denied/);
  }
  assert.equal(existsSync('/usr/hangar-probe'), false);
  const writable = await run(first.client, ['sh', '-c', 'touch /tmp/a ~/b /workspaces/repo/c']);
  assert.equal(writable.outcome.exitCode, 0, writable.stderr.toString());
});

test('processes run as the unprivileged user, without capabilities, no_new_privs', async () => {
  const status = await shell(first.client, 'cat /proc/self/status');
  assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
  assert.match(status, /^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
  assert.match(status, /^CapEff:\s+0000000000000000$/m);
  assert.match(status, /^CapPrm:\s+0000000000000000$/m);
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  const nested = await run(first.client, ['unshare', '--user', '--map-root-user', 'id', '-u']);
  assert.notEqual(nested.outcome.exitCode, 0, 'no new user namespace, so no root inside either');

  const record = readRecord(environmentPaths(fixture.dataDir, first.id).record);
  assert.ok(record?.keeperPid);
  const envdPid = envdHostPid(record.keeperPid);
  assert.ok(envdPid !== undefined);
  const hostStatus = readFileSync(`/proc/${envdPid}/status`, 'utf8');
  assert.match(hostStatus, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, 'uid 1000 on the host as well');
  assert.match(hostStatus, /^CapEff:\s+0000000000000000$/m);

  await first.client.writeFile('owned.txt', Buffer.from('x'));
  const owner = statSync(join(first.volume, 'owned.txt'));
  assert.equal(owner.uid, testUser.uid);
  assert.equal(owner.gid, testUser.gid);
});
