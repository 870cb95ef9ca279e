import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapOptions, encodeArgs, hostRootEntries, type BwrapPlan } from './bwrap-args.js';
import { generatedEtcFiles, hostEtcEntries, hostEtcMounts } from './etc-files.js';

const plan: BwrapPlan = {
  hostname: 'env-1',
  uid: 1000,
  gid: 1000,
  rootEntries: [
    { kind: 'bind', path: '/usr' },
    { kind: 'symlink', target: 'usr/bin', path: '/bin' },
  ],
  etcMounts: [{ kind: 'bind', source: '/data/env/etc/passwd', dest: '/etc/passwd' }],
  nodePath: '/usr/bin/node',
  envdPackageDir: '/opt/hangar/envd',
  nodePtyDir: '/opt/hangar/node_modules/node-pty',
  envdConfigPath: '/data/env/envd.json',
  runDir: '/data/env/run',
  volumes: [
    { source: '/data/volumes/env', dest: '/home/dev/work/repo' },
    { source: '/data/env/home', dest: '/home/dev' },
  ],
  tmpSizeBytes: 1 << 20,
  env: { PATH: '/usr/bin:/bin' },
  chdir: '/home/dev/work/repo',
  disableUserns: true,
};

function pairAfter(args: string[], flag: string, first: string): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === flag && args[i + 1] === first) return args[i + 2];
  }
  return undefined;
}

test('every namespace is unshared and the sandbox dies with its keeper', () => {
  const args = bwrapOptions(plan);
  for (const flag of [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ]) {
    assert.ok(args.includes(flag), `${flag} is set`);
  }
  assert.ok(!args.includes('--share-net') && !args.some((arg) => arg.startsWith('--cap-add')));
  assert.deepEqual(args.slice(-2), ['--remount-ro', '/'], 'the root is made read-only last');
});

test('the image is read-only, the volumes read-write, parents mounted before children', () => {
  const args = bwrapOptions(plan);
  assert.equal(pairAfter(args, '--ro-bind', '/usr'), '/usr');
  assert.equal(pairAfter(args, '--symlink', 'usr/bin'), '/bin');
  assert.equal(pairAfter(args, '--ro-bind', '/opt/hangar/envd/dist'), '/run/hangar/envd/dist');
  assert.equal(
    pairAfter(args, '--ro-bind', '/opt/hangar/node_modules/node-pty'),
    '/run/hangar/envd/node_modules/node-pty',
    'node-pty is mounted where envd resolves it',
  );
  assert.equal(pairAfter(args, '--bind', '/data/env/run'), '/run/hangar/sock');
  const home = args.indexOf('/data/env/home');
  const volume = args.indexOf('/data/volumes/env');
  assert.ok(home > 0 && volume > home, 'the home is mounted before the workspace inside it');
  assert.equal(args[args.indexOf('--tmpfs') - 1], String(1 << 20), '/tmp has a size');
});

test('options travel NUL-separated', () => {
  assert.deepEqual(encodeArgs(['--a', 'b c']), Buffer.from('--a\0b c\0'));
  assert.throws(() => encodeArgs(['bad\0arg']));
});

test('the host image entries mirror the host: links stay links', () => {
  const entries = hostRootEntries();
  assert.deepEqual(entries[0], { kind: 'bind', path: '/usr' });
  assert.ok(entries.some((entry) => entry.path === '/bin'));
});

test('/etc gets generated identity files and no host secrets', () => {
  const files = generatedEtcFiles(
    { name: 'dev', uid: 1000, gid: 1001, home: '/home/dev', shell: '/bin/bash' },
    'env-1',
  );
  assert.match(files.passwd ?? '', /^dev:x:1000:1001:dev:\/home\/dev:\/bin\/bash$/m);
  assert.match(files.group ?? '', /^dev:x:1001:$/m);
  assert.match(files.hosts ?? '', /^127\.0\.0\.1\tlocalhost env-1$/m);
  const secrets = [
    'shadow',
    'gshadow',
    'ssh',
    'sudoers',
    'machine-id',
    'resolv.conf',
    'npmrc',
    'pip.conf',
    'gitconfig',
    'environment',
    'ssl/private',
    'subuid',
  ];
  for (const name of secrets) {
    assert.ok(!(hostEtcEntries as readonly string[]).includes(name), `${name} stays on the host`);
  }
  for (const mount of hostEtcMounts('/etc')) assert.ok(mount.dest.startsWith('/etc/'));
});
