import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvdClient, SandboxSpec } from '../provider.js';
import { run, sandboxFixture, shell, type SandboxFixture } from './test-support.js';

// Commands and files through envd inside a real sandbox.
let fixture: SandboxFixture;
let spec: SandboxSpec;
let client: EnvdClient;

before(async () => {
  fixture = sandboxFixture();
  spec = fixture.spec({ containerEnv: { GREETING: 'hello from containerEnv' } });
  await fixture.provider.start(spec);
  client = await fixture.provider.connect(spec.environmentId);
});

after(async () => {
  client.close();
  await fixture.cleanup();
});

test('binary, invalid UTF-8, a split character and a 5 MB line arrive intact', async () => {
  const binary = await run(client, [
    'sh',
    '-c',
    'printf "\\377\\376\\000\\303\\050"; printf "\\342\\202"; sleep 0.1; printf "\\254"',
  ]);
  assert.deepEqual(binary.stdout, Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xe2, 0x82, 0xac]));

  const size = 5 * 1024 * 1024;
  const line = await run(client, ['sh', '-c', `head -c ${size} /dev/zero | tr '\\0' x; echo`]);
  assert.equal(line.stdout.length, size + 1);
  const expected = createHash('sha256')
    .update(`${'x'.repeat(size)}\n`)
    .digest('hex');
  assert.equal(createHash('sha256').update(line.stdout).digest('hex'), expected);

  const split = await run(client, ['sh', '-c', 'echo out; echo err >&2']);
  assert.equal(split.stdout.toString(), 'out\n');
  assert.equal(split.stderr.toString(), 'err\n');
});

test('stdin, exit codes, containerEnv and the default cwd', async () => {
  const data = randomBytes(1024 * 1024);
  assert.deepEqual((await run(client, ['cat'], { stdin: data })).stdout, data);
  assert.equal((await run(client, ['sh', '-c', 'exit 7'])).outcome.exitCode, 7);
  const env = await shell(client, 'echo "$GREETING|$HOME|$USER|$(pwd)"');
  assert.equal(env, 'hello from containerEnv|/home/dev|dev|/workspaces/repo\n');
});

test('a timeout kills the process group inside and keeps what was printed', async () => {
  const script = 'trap "" TERM; echo partial; sleep 100 & wait';
  const result = await run(client, ['sh', '-c', script], { timeoutMs: 300 });
  assert.equal(result.outcome.timedOut, true);
  assert.equal(result.stdout.toString(), 'partial\n');
  assert.equal(await shell(client, 'pgrep -x sleep || echo none'), 'none\n');
});

test('files inside the writable areas can be written, read and listed', async () => {
  await client.writeFile('src/main.txt', Buffer.from('workspace'));
  await client.writeFile('/tmp/scratch.txt', Buffer.from('tmp'));
  await client.writeFile('/home/dev/.config/app.json', Buffer.from('{}'));
  assert.equal((await client.readFile('/workspaces/repo/src/main.txt')).toString(), 'workspace');
  assert.equal(await shell(client, 'cat /tmp/scratch.txt ~/.config/app.json'), 'tmp{}');
  assert.equal(readFileSync(join(spec.workspaceDir, 'src/main.txt'), 'utf8'), 'workspace');
  const names = (await client.listDir('.')).map((entry) => entry.name);
  assert.ok(names.includes('src'));
});

test('"..", absolute paths elsewhere and symlinks out of the areas are refused', async () => {
  const refused = { code: 'path_outside_environment' };
  await assert.rejects(client.readFile('../../etc/passwd'), refused);
  await assert.rejects(client.readFile('/etc/passwd'), refused);
  await assert.rejects(client.writeFile('/usr/local/bin/tool', Buffer.from('x')), refused);
  await assert.rejects(client.listDir('/proc/1'), refused);

  await shell(client, 'ln -s /etc/hosts hosts-link; ln -s / root-link; ln -s /run/hangar run-link');
  await assert.rejects(client.readFile('hosts-link'), refused);
  await assert.rejects(client.writeFile('hosts-link', Buffer.from('127.0.0.1 evil\n')), refused);
  await assert.rejects(client.listDir('root-link'), refused);
  await assert.rejects(client.readFile('root-link/etc/passwd'), refused);
  await assert.rejects(client.writeFile('run-link/sock/x', Buffer.from('x')), refused);
  assert.doesNotMatch(await shell(client, 'cat /etc/hosts'), /evil/);

  const secret = join(fixture.root, 'host-secret.txt');
  writeFileSync(secret, 'host secret\n', { mode: 0o644 });
  symlinkSync(secret, join(spec.workspaceDir, 'host-link'));
  symlinkSync('/usr/bin/env', join(spec.workspaceDir, 'image-link'));
  const leaked = await client.readFile('host-link').catch((error: unknown) => error);
  assert.ok(leaked instanceof Error, 'a host path means nothing inside the sandbox');
  await assert.rejects(client.readFile('image-link'), refused);
});
