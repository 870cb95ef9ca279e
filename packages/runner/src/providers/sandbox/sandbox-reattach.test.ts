import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { environmentPaths } from './layout.js';
import { sandboxFixture, shell, type SandboxFixture } from './test-support.js';

let fixture: SandboxFixture;

before(() => {
  fixture = sandboxFixture();
});

after(async () => {
  await fixture.cleanup();
});

test('a new provider object on the same data dir reattaches to a running sandbox', async () => {
  const spec = fixture.spec();
  await fixture.provider.start(spec);
  const again = fixture.newProvider();
  assert.equal(await again.state(spec.environmentId), 'running');
  const client = await again.connect(spec.environmentId);
  try {
    assert.equal(await shell(client, 'echo reattached'), 'reattached\n');
  } finally {
    client.close();
  }
  assert.deepEqual(await again.start(spec), await fixture.provider.start(spec));
  await again.stop(spec.environmentId);
  assert.equal(await fixture.provider.state(spec.environmentId), 'stopped');
});

test('the sandbox outlives a runner process that is killed, and a new one finds it', async () => {
  const spec = fixture.spec();
  const providerUrl = new URL('./sandbox-provider.js', import.meta.url).href;
  const script = `
    import { SandboxProvider } from ${JSON.stringify(providerUrl)};
    const provider = new SandboxProvider({ dataDir: ${JSON.stringify(fixture.dataDir)} });
    const spec = JSON.parse(process.argv[1]);
    await provider.start(spec);
    const client = await provider.connect(spec.environmentId);
    await client.exec({ command: ['sh', '-c', 'echo before > /workspaces/repo/runner.txt'] });
    process.stdout.write('started\\n');
    setInterval(() => undefined, 1000);
  `;
  const runner = spawn(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(spec)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [firstOutput] = (await once(runner.stdout, 'data')) as [Buffer];
  assert.equal(firstOutput.toString(), 'started\n');
  runner.kill('SIGKILL');
  await once(runner, 'exit');

  assert.equal(await fixture.provider.state(spec.environmentId), 'running');
  const client = await fixture.provider.connect(spec.environmentId);
  try {
    assert.equal(await shell(client, 'cat /workspaces/repo/runner.txt'), 'before\n');
  } finally {
    client.close();
  }
  await fixture.provider.remove(spec.environmentId);
  assert.equal(await fixture.provider.state(spec.environmentId), 'stopped');
});

test('a data dir deeper than a socket address can hold still works', async () => {
  const deep = join(fixture.root, 'a-long-directory-name'.repeat(4), 'and-another-one'.repeat(3));
  const provider = fixture.newProvider({ dataDir: deep });
  const spec = fixture.spec();
  assert.ok(Buffer.byteLength(environmentPaths(deep, spec.environmentId).socket) > 108);
  await provider.start(spec);
  try {
    const client = await provider.connect(spec.environmentId);
    assert.equal(await shell(client, 'echo deep'), 'deep\n');
    client.close();
  } finally {
    await provider.remove(spec.environmentId);
  }
});
