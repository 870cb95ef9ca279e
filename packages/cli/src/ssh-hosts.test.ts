import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkForward, sshArguments } from './commands/ssh.js';
import { renderSshConfig } from './commands/ssh-config.js';
import { main } from './main.js';
import {
  hostKeyAlias,
  knownHostsPath,
  parseAddress,
  pinHostKeys,
  readableKeyFile,
  sshConfigValue,
} from './ssh-hosts.js';
import { captureIo } from './testing/capture-io.js';

const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJwGQgOOhSiCmERxm0rBAVKhS+tlNIMQEdyzNc4jMJ8l';
const endpoint = { runnerId: 'run_sshhosts0001', address: '127.0.0.1:7702', hostKeys: [hostKey] };

test('gateway addresses are host:port, IPv6 in brackets; anything else is refused', () => {
  assert.deepEqual(parseAddress('127.0.0.1:7702'), { host: '127.0.0.1', port: 7702 });
  assert.deepEqual(parseAddress('[::1]:22'), { host: '::1', port: 22 });
  assert.deepEqual(parseAddress('ssh.example.com:2222'), { host: 'ssh.example.com', port: 2222 });
  for (const bad of ['127.0.0.1', 'host:0', 'host:70000', '-oProxyCommand=x:22', 'a b:22']) {
    assert.throws(() => parseAddress(bad), /not host:port/, bad);
  }
});

test('host keys are pinned under the runner alias, replacing only that runner', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-known-hosts-'));
  try {
    const path = join(dir, 'ssh', 'known_hosts');
    await pinHostKeys(path, [{ ...endpoint, runnerId: 'run_other0000001' }]);
    await pinHostKeys(path, [endpoint]);
    await pinHostKeys(path, [{ ...endpoint, hostKeys: [`${hostKey} comment`] }]);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    assert.deepEqual(lines, [
      `hangar-run_other0000001 ${hostKey}`,
      `${hostKeyAlias(endpoint.runnerId)} ${hostKey}`,
    ]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await assert.rejects(
      pinHostKeys(path, [{ ...endpoint, hostKeys: ['ssh-dss AAAAB3NzaC1kc3M='] }]),
      /not an OpenSSH public key/,
    );
    await pinHostKeys(path, [
      { ...endpoint, hostKeys: [`${hostKey}\nevil.example.com ${hostKey}`] },
    ]);
    const after = (await readFile(path, 'utf8')).trim().split('\n');
    assert.equal(after.length, 2, 'a published key cannot add a line for another host');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ssh is told to check the pinned key strictly, with no agent or X11 forwarding', () => {
  const args = sshArguments({
    endpoint,
    username: 'env_sshhosts0001',
    knownHosts: '/home/me/.config/hangar/ssh/known_hosts',
    identity: '/home/me/.ssh/id_ed25519',
    forwards: ['8080:localhost:3000'],
    tty: true,
    command: ['ls', '-la'],
  });
  assert.deepEqual(args, [
    '-p',
    '7702',
    '-o',
    'UserKnownHostsFile=/home/me/.config/hangar/ssh/known_hosts',
    '-o',
    'HostKeyAlias=hangar-run_sshhosts0001',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ForwardX11=no',
    '-i',
    '/home/me/.ssh/id_ed25519',
    '-o',
    'IdentitiesOnly=yes',
    '-L',
    '8080:localhost:3000',
    '-t',
    'env_sshhosts0001@127.0.0.1',
    '--',
    'ls',
    '-la',
  ]);
});

test('forwards must end at localhost inside the environment', () => {
  assert.equal(checkForward('8080:localhost:3000'), '8080:localhost:3000');
  assert.equal(checkForward('127.0.0.1:8080:127.0.0.1:3000'), '127.0.0.1:8080:127.0.0.1:3000');
  for (const bad of ['8080:db.internal:5432', '3000', 'x:localhost:1', '8080:localhost:']) {
    assert.throws(() => checkForward(bad), /is not \[bind:\]port:localhost:port/, bad);
  }
});

test('the ssh config has one Host per environment, quoting paths with blanks', () => {
  const text = renderSshConfig(
    [{ environment: { id: 'env_sshhosts0001', name: 'app' }, endpoint }],
    { knownHosts: '/home/me/My Files/known_hosts', identity: '/home/me/.ssh/id_ed25519' },
  );
  assert.match(text, /^Host app\.hangar\n {2}HostName 127\.0\.0\.1\n {2}Port 7702\n/m);
  assert.match(text, /^ {2}User env_sshhosts0001$/m);
  assert.match(text, /^ {2}HostKeyAlias hangar-run_sshhosts0001$/m);
  assert.match(text, /^ {2}UserKnownHostsFile "\/home\/me\/My Files\/known_hosts"$/m);
  assert.match(text, /^ {2}StrictHostKeyChecking yes$/m);
  assert.match(text, /^ {2}IdentityFile \/home\/me\/\.ssh\/id_ed25519$/m);
  assert.throws(() => sshConfigValue('/a"b'), /holds a quote/);
});

test('the known_hosts file lives under HANGAR_HOME, else the user configuration folder', () => {
  const io = { cwd: '/work', homeDir: '/home/me' };
  assert.equal(knownHostsPath({ ...io, env: { HANGAR_HOME: 'h' } }), '/work/h/ssh/known_hosts');
  assert.equal(knownHostsPath({ ...io, env: {} }), '/home/me/.config/hangar/ssh/known_hosts');
  assert.equal(
    knownHostsPath({ ...io, env: { XDG_CONFIG_HOME: '/x' } }),
    '/x/hangar/ssh/known_hosts',
  );
});

test('hangar ssh and ssh-config refuse bad flags before asking the control plane', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-ssh-flags-'));
  try {
    await writeFile(join(dir, 'key'), 'x', { mode: 0o600 });
    const env = { HANGAR_URL: 'http://127.0.0.1:9', HANGAR_TOKEN: 'hgt_unused' };
    const cases: [string[], RegExp][] = [
      [['ssh'], /missing <env>/],
      [['ssh', 'app', '--forward', '80:10.0.0.1:80'], /--forward 80:10\.0\.0\.1:80 is not/],
      [['ssh', 'app', '--identity', join(dir, 'missing')], /--identity .*missing cannot be read/],
      [['ssh', 'app', '--json'], /--json does not apply to ssh/],
      [['ssh-config', '--write', '--write-to', 'x'], /--write and --write-to contradict/],
      [['ssh-config', '--write', '--json'], /leave out --write/],
      [['ssh-config', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo({ env, cwd: dir, homeDir: dir });
      assert.equal(await main(argv, io), 2, argv.join(' '));
      assert.match(io.stderr.text(), message, argv.join(' '));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--identity refuses a public key and names the private key beside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-identity-'));
  try {
    const publicPath = join(dir, 'id_ed25519.pub');
    await writeFile(publicPath, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO0 me@host\n');
    await assert.rejects(
      readableKeyFile(publicPath, { commandPath: 'ssh', flag: 'identity' }),
      (error: Error) =>
        /is a public key/.test(error.message) && error.message.includes(join(dir, 'id_ed25519)')),
    );
    const privatePath = join(dir, 'id_ed25519');
    await writeFile(privatePath, '-----BEGIN OPENSSH PRIVATE KEY-----\n');
    assert.equal(
      await readableKeyFile(privatePath, { commandPath: 'ssh', flag: 'identity' }),
      privatePath,
    );
    await assert.rejects(
      readableKeyFile(join(dir, 'missing'), { commandPath: 'ssh', flag: 'identity' }),
      /cannot be read/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
