import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { detectCgroupHost } from './cgroup-host.js';
import { cgroupDirs } from './cgroups.js';
import { environmentPaths } from './layout.js';
import { defaultEnvdPackageDir, nodePtyPackageDir, SandboxProvider } from './sandbox-provider.js';
import { sandboxFixture, type SandboxFixture } from './test-support.js';

const execFileAsync = promisify(execFile);
const cgroupReason = detectCgroupHost().version === 'v2' ? 'CgroupV2' : 'CgroupV1';

let fixture: SandboxFixture;

before(() => {
  fixture = sandboxFixture();
});

after(async () => {
  await fixture.cleanup();
});

test('check names bubblewrap and the package to install when bwrap is missing', async () => {
  const provider = fixture.newProvider({ bwrapPath: join(fixture.root, 'no-such-bwrap') });
  await assert.rejects(provider.check(), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal((error as { code?: unknown }).code, 'runner_unavailable');
    assert.match(error.message, /bubblewrap/);
    assert.match(error.message, /Debian's `bubblewrap` package/);
    return true;
  });
  await assert.rejects(provider.start(fixture.spec()), { code: 'runner_unavailable' });
});

test('check says user namespaces are not usable when bwrap cannot create one', async () => {
  // This host allows user namespaces, and switching them off would disturb everything else on
  // it, so a stand-in bwrap answers the way bubblewrap does where they are disabled.
  const fake = join(fixture.root, 'bwrap-without-userns');
  writeFileSync(
    fake,
    '#!/bin/sh\n[ "$1" = --version ] && { echo "bubblewrap 0.8.0"; exit 0; }\n' +
      'echo "bwrap: No permissions to create new namespace" >&2; exit 1\n',
    { mode: 0o755 },
  );
  const provider = fixture.newProvider({ bwrapPath: fake });
  await assert.rejects(provider.check(), (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, 'runner_unavailable');
    assert.match((error as Error).message, /user namespaces are not usable/);
    assert.match((error as Error).message, /No permissions to create new namespace/);
    assert.match((error as Error).message, /Debian's `bubblewrap` package/);
    return true;
  });
});

test('check reports bubblewrap and the cgroup version it will use', async () => {
  const conditions = await fixture.provider.check();
  assert.deepEqual(
    conditions.map(({ type, status, reason }) => ({ type, status, reason })),
    [
      { type: 'SandboxAvailable', status: 'true', reason: 'Bubblewrap' },
      { type: 'LimitsEnforced', status: 'true', reason: cgroupReason },
    ],
  );
});

test('a spec the sandbox cannot honour safely is refused before anything is created', async () => {
  const base = fixture.spec();
  const bad = [
    { ...base, user: { ...base.user, uid: 0 } },
    { ...base, user: { ...base.user, gid: 0 } },
    { ...base, user: { ...base.user, name: 'root' } },
    { ...base, workspaceFolder: '/usr/local/repo' },
    { ...base, workspaceFolder: 'relative/repo' },
    { ...base, workspaceFolder: '/workspaces/../etc' },
    { ...base, environmentId: '../escape' },
    { ...base, containerEnv: { 'BAD=NAME': 'x' } },
    { ...base, class: { ...base.class, pids: 3 } },
  ];
  for (const spec of bad) {
    await assert.rejects(fixture.provider.start(spec), { code: 'invalid_request' });
  }
  assert.equal(existsSync(environmentPaths(fixture.dataDir, base.environmentId).root), false);
});

test('an envd that fails to start fails start with its words, leaving nothing', async () => {
  const envdDir = join(fixture.root, 'broken-envd');
  mkdirSync(join(envdDir, 'dist'), { recursive: true });
  writeFileSync(join(envdDir, 'package.json'), '{"type":"module"}');
  writeFileSync(join(envdDir, 'dist', 'main.js'), 'throw new Error("envd refuses to start");');
  const nodePtyDir = nodePtyPackageDir(defaultEnvdPackageDir());
  const provider = fixture.newProvider({ envdPackageDir: envdDir, nodePtyDir });
  const spec = fixture.spec();
  await assert.rejects(provider.start(spec), (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, 'internal');
    assert.match((error as Error).message, /exited while starting.*envd refuses to start/s);
    return true;
  });
  assert.equal(await provider.state(spec.environmentId), 'stopped');
  assert.equal(existsSync(environmentPaths(fixture.dataDir, spec.environmentId).record), false);
  for (const dir of cgroupDirs(detectCgroupHost(), 'hangar', spec.environmentId)) {
    assert.equal(existsSync(dir), false, `${dir} is removed`);
  }
});

test('a data dir the sandbox user cannot reach is named in the error', async () => {
  const closed = join(fixture.root, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  chmodSync(closed, 0o700);
  const provider = new SandboxProvider({ dataDir: join(closed, 'data') });
  const spec = fixture.spec();
  await assert.rejects(provider.start(spec), (error: unknown) => {
    assert.match(
      (error as Error).message,
      new RegExp(`${closed} .*cannot be searched by uid 1000`),
    );
    return true;
  });
  assert.equal(await provider.state(spec.environmentId), 'stopped');
});

test('an unprivileged runner starts sandboxes and says limits are not enforced', async () => {
  const home = join(fixture.root, 'unprivileged');
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, 1001, 1001);
  const spec = { ...fixture.spec(), workspaceDir: join(home, 'volume') };
  const providerUrl = new URL('./sandbox-provider.js', import.meta.url).href;
  const script = `
    import { statSync } from 'node:fs';
    import { SandboxProvider } from ${JSON.stringify(providerUrl)};
    const spec = JSON.parse(process.argv[1]);
    const provider = new SandboxProvider({ dataDir: ${JSON.stringify(join(home, 'data'))} });
    const { conditions } = await provider.start(spec);
    const client = await provider.connect(spec.environmentId);
    const out = [];
    await client.exec({ command: ['sh', '-c', 'id -u; touch made'], onStdout: (b) => out.push(b) });
    client.close();
    const owner = statSync(spec.workspaceDir + '/made').uid;
    await provider.remove(spec.environmentId);
    const inside = Buffer.concat(out).toString();
    process.stdout.write(JSON.stringify({ conditions, inside, owner }));
  `;
  const { stdout } = await execFileAsync(
    'setpriv',
    [
      '--reuid=1001',
      '--regid=1001',
      '--clear-groups',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
      JSON.stringify(spec),
    ],
    { cwd: home },
  );
  const result = JSON.parse(stdout) as {
    conditions: Array<{ type: string; status: string; reason: string; message: string }>;
    inside: string;
    owner: number;
  };
  assert.equal(result.inside, '1000\n');
  assert.equal(result.owner, 1001, 'on the host, files belong to the unprivileged runner');
  assert.equal(result.conditions[0]?.status, 'false');
  assert.equal(result.conditions[0]?.reason, 'CgroupsUnavailable');
  assert.match(
    result.conditions[0]?.message ?? '',
    /not enforced: the runner does not run as root/,
  );
});
