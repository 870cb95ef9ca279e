import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { EnvdClient } from '../provider.js';
import { createEnvdClient } from './envd-socket-client.js';
import { environmentPaths } from './layout.js';
import { readRecord } from './records.js';
import {
  run,
  sandboxFixture,
  shell,
  startSandbox,
  type SandboxFixture,
  type StartedSandbox,
} from './test-support.js';

// The socket directory is the one host directory a sandbox can write that the runner, as root,
// connects through. Code in environment A replaces A's socket; the runner must never send A's
// requests anywhere else, nor tell A what lies at host paths.
let fixture: SandboxFixture;
let a: StartedSandbox;
let b: StartedSandbox;

before(async () => {
  fixture = sandboxFixture();
  a = await startSandbox(fixture);
  b = await startSandbox(fixture);
});

after(async () => {
  a.client.close();
  b.client.close();
  await fixture.cleanup();
});

function socketOf(id: string): string {
  return environmentPaths(fixture.dataDir, id).socket;
}

async function refusal(client: EnvdClient, command: string[]): Promise<string> {
  const error = await client.exec({ command }).catch((caught: unknown) => caught);
  assert.ok(error instanceof Error, 'the exec is refused');
  assert.equal((error as { code?: unknown }).code, 'environment_not_running');
  return error.message;
}

test("A's socket swapped for B's from inside A: A's exec fails, nothing runs in B", async () => {
  assert.equal(await shell(a.client, 'echo before'), 'before\n');
  const inside = '/run/hangar/sock/envd.sock';
  const swap = `rm ${inside} && ln -s ${socketOf(b.id)} ${inside}`;
  const swapped = await run(a.client, ['sh', '-c', swap]);
  assert.equal(swapped.outcome.exitCode, 0, swapped.stderr.toString());

  const marker = '/workspaces/repo/ran-for-a';
  const viaSymlink = await refusal(a.client, ['touch', marker]);
  await assert.rejects(fixture.provider.connect(a.id), { code: 'environment_not_running' });
  assert.equal(existsSync(join(b.volume, 'ran-for-a')), false, 'nothing ran in B');
  assert.equal(existsSync(join(a.volume, 'ran-for-a')), false);
  assert.equal(await shell(b.client, 'echo B still answers'), 'B still answers\n');

  // The rest of the dir's possible contents, laid out from the host: A could make each itself.
  const aSocket = socketOf(a.id);
  const listener = createServer((socket) => socket.destroy());
  const hostSocket = join(fixture.root, 'host-service.sock');
  await new Promise<void>((resolve) => listener.listen(hostSocket, resolve));
  let hostConnections = 0;
  listener.on('connection', () => (hostConnections += 1));
  const hostFile = join(fixture.root, 'host-file');
  writeFileSync(hostFile, 'x');
  const messages = new Set([viaSymlink]);
  try {
    for (const target of [hostSocket, join(fixture.root, 'no-such-socket'), hostFile, '/']) {
      rmSync(aSocket, { force: true });
      symlinkSync(target, aSocket);
      messages.add(await refusal(a.client, ['true']));
    }
    rmSync(aSocket, { force: true });
    messages.add(await refusal(a.client, ['true']));
  } finally {
    listener.close();
  }
  assert.equal(messages.size, 1, `one message, whatever is there: ${[...messages].join(' | ')}`);
  assert.equal(hostConnections, 0, 'the host socket behind the symlink was never connected to');
  assert.doesNotMatch(viaSymlink, /ENOENT|ECONNREFUSED|symlink|not a socket/);
});

test("B's envd cannot pass for A even when reached; a new boot of A has a new secret", async () => {
  const recordA = readRecord(environmentPaths(fixture.dataDir, a.id).record);
  assert.ok(recordA?.envdSecret);
  const oldAuth = { environmentId: a.id, secret: Buffer.from(recordA.envdSecret, 'hex') };
  const misrouted = createEnvdClient({ socketPath: socketOf(b.id), auth: oldAuth });
  const message = await refusal(misrouted, ['touch', '/workspaces/repo/misrouted']);
  misrouted.close();
  assert.match(message, /not as that environment's envd.*nothing was sent/);
  assert.equal(existsSync(join(b.volume, 'misrouted')), false, 'nothing ran in B');

  await fixture.provider.stop(a.id);
  await fixture.provider.start({ ...fixture.spec(), environmentId: a.id, workspaceDir: a.volume });
  const fresh = await fixture.provider.connect(a.id);
  try {
    assert.equal(await shell(fresh, 'echo A again'), 'A again\n');
  } finally {
    fresh.close();
  }
  const stale = createEnvdClient({ socketPath: socketOf(a.id), auth: oldAuth });
  assert.match(await refusal(stale, ['true']), /not as that environment's envd/);
  stale.close();
});
