import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryProvider } from '../providers/memory-provider.js';
import { smallClass, testUser } from '../providers/sandbox/test-support.js';
import { startGateway } from './server.js';
import { gatewayDeps } from './stream-test-support.js';

// Which gateway requests mark an environment active: running and writing, not reading.
const environmentId = 'env_activity0001';
let dir: string;
let setup: ReturnType<typeof gatewayDeps>;
let gateway: Awaited<ReturnType<typeof startGateway>>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-activity-'));
  const provider = new MemoryProvider();
  await provider.start({
    environmentId,
    workspaceDir: dir,
    workspaceFolder: '/workspaces/repo',
    class: smallClass,
    user: testUser,
    containerEnv: {},
  });
  setup = gatewayDeps(provider, dir);
  gateway = await startGateway(setup.deps, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await gateway.close();
  await rm(dir, { recursive: true, force: true });
});

async function send(
  method: string,
  path: string,
  operation: 'exec' | 'files:read' | 'files:write',
  body?: string,
) {
  const response = await fetch(`${gateway.url}/v1/environments/${environmentId}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${setup.grant(environmentId, [operation])}`,
      ...(body !== undefined
        ? {
            'content-type':
              operation === 'files:write' ? 'application/octet-stream' : 'application/json',
          }
        : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

test('reading files does not mark activity; exec and file writes do', async () => {
  assert.equal(await send('GET', '/files/list?path=.', 'files:read'), 200);
  assert.equal(await send('GET', '/files?path=notes.txt', 'files:read'), 200);
  assert.equal(setup.deps.activity.lastActiveAt(environmentId), undefined);

  assert.equal(await send('PUT', '/files?path=notes.txt', 'files:write', 'x'), 204);
  const afterWrite = setup.deps.activity.lastActiveAt(environmentId);
  assert.ok(afterWrite, 'a file write is activity');

  setup.deps.activity.forget(environmentId);
  const exec = JSON.stringify({ command: ['true'] });
  assert.equal(await send('POST', '/exec', 'exec', exec), 200);
  assert.ok(setup.deps.activity.lastActiveAt(environmentId), 'an exec is activity');
});
