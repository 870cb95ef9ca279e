import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRunnerConfig } from '../config.js';
import { publicAddressOf } from './server.js';

const base = { controlPlaneUrl: 'http://127.0.0.1:9', dataDir: '/tmp/unused' };

test('the SSH port follows the gateway port unless set, and is any free one with port 0', async () => {
  assert.equal((await resolveRunnerConfig(base)).sshPort, 7702);
  assert.equal((await resolveRunnerConfig({ ...base, gatewayPort: 9000 })).sshPort, 9001);
  assert.equal((await resolveRunnerConfig({ ...base, gatewayPort: 0 })).sshPort, 0);
  assert.equal((await resolveRunnerConfig({ ...base, sshPort: 2222 })).sshPort, 2222);
  assert.equal((await resolveRunnerConfig(base)).sshHost, '127.0.0.1');
  await assert.rejects(
    resolveRunnerConfig({ ...base, gatewayPort: 65535 }),
    /sshPort has no default/,
  );
  await assert.rejects(resolveRunnerConfig({ ...base, sshPort: 70000 }), /sshPort/);
});

test('the public SSH address is host or host:port; anything else names the field', async () => {
  for (const good of ['ssh.example.com', 'ssh.example.com:22', '10.1.2.3:2222', '[::1]:22']) {
    const config = await resolveRunnerConfig({ ...base, sshPublicAddress: good });
    assert.equal(config.sshPublicAddress, good);
  }
  for (const bad of ['ssh://host', 'user@host', 'host:0', 'host:99999', '-oProxy', 'a b', 'h/p']) {
    await assert.rejects(
      resolveRunnerConfig({ ...base, sshPublicAddress: bad }),
      /sshPublicAddress must be host or host:port/,
      bad,
    );
  }
});

test('clients dial the configured address, the real port added when it names none', () => {
  assert.equal(publicAddressOf({ host: '127.0.0.1' }, 4022), '127.0.0.1:4022');
  assert.equal(publicAddressOf({ host: '::1' }, 4022), '[::1]:4022');
  assert.equal(
    publicAddressOf({ host: '0.0.0.0', publicAddress: 'ssh.corp' }, 4022),
    'ssh.corp:4022',
  );
  assert.equal(
    publicAddressOf({ host: '0.0.0.0', publicAddress: 'ssh.corp:22' }, 4022),
    'ssh.corp:22',
  );
  assert.equal(publicAddressOf({ host: '0.0.0.0', publicAddress: '[::1]' }, 4022), '[::1]:4022');
  assert.doesNotMatch(publicAddressOf({ host: '0.0.0.0' }, 4022), /^0\.0\.0\.0/);
});
