import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AccessClaims, RunnerAuditRecord } from '@hangar/api';
import { AuditQueue } from '../audit-queue.js';
import { MemoryProvider } from '../providers/memory-provider.js';
import { commandDigest, runExec, type ExecCall, type ExecDeps } from './exec-service.js';

const environmentId = 'env_execservice0';
const claims: AccessClaims = {
  iss: 'hangar',
  aud: 'run_execservice0',
  org: 'org_execservice0',
  env: environmentId,
  act: { kind: 'user', id: 'usr_execservice0' },
  ops: ['exec'],
  iat: 0,
  exp: 0,
  jti: 'grt_execservice0',
};

function callFor(command: string[]): ExecCall {
  return {
    claims,
    environmentId,
    request: { command },
    requestId: 'req_execservice0',
    sourceAddress: '127.0.0.1',
    onStdout: () => undefined,
    onStderr: () => undefined,
  };
}

async function setup(respond?: ConstructorParameters<typeof MemoryProvider>[0]) {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-exec-'));
  const queue = await AuditQueue.open(dir);
  const provider = new MemoryProvider(respond);
  await provider.start({
    environmentId,
    workspaceDir: dir,
    workspaceFolder: '/workspaces/repo',
    class: { name: 'small', cpu: 1, memoryMiB: 512, pids: 256 },
    user: { uid: 1000, gid: 1000, name: 'dev' },
    containerEnv: {},
  });
  const logged: Record<string, unknown>[] = [];
  const deps: ExecDeps = {
    audit: queue,
    envd: (id) => provider.connect(id),
    logCommand: async (entry) => {
      logged.push(entry);
    },
    remoteEnv: () => ({}),
    workspaceFolder: () => '/workspaces/repo',
  };
  return { dir, queue, provider, logged, deps };
}

function stages(records: readonly RunnerAuditRecord[]) {
  return records.map((record) => [record.action, record.details.stage, record.outcome]);
}

test('a start record is queued before the command runs, and an end record after', async () => {
  let queuedWhileRunning: RunnerAuditRecord[] = [];
  const context = await setup(() => {
    queuedWhileRunning = context.queue.pending();
    return { exitCode: 3 };
  });
  try {
    const outcome = await runExec(context.deps, callFor(['sh', '-c', 'exit 3']));
    assert.equal(outcome.exitCode, 3);

    // The runner could die here, mid-command: the start record is already on disk.
    assert.deepEqual(stages(queuedWhileRunning), [['environment.exec', 'start', 'success']]);
    const start = queuedWhileRunning[0];
    assert.equal(start?.details.commandSha256, commandDigest(['sh', '-c', 'exit 3']));
    assert.equal(start?.details.grant, claims.jti);
    assert.equal(start?.details.exitCode, undefined);

    const reopened = await AuditQueue.open(context.dir);
    assert.deepEqual(stages(reopened.pending()), [
      ['environment.exec', 'start', 'success'],
      ['environment.exec', 'end', 'success'],
    ]);
    const end = reopened.pending()[1];
    assert.equal(end?.details.exitCode, 3);
    assert.equal(typeof end?.details.durationMs, 'number');
    assert.equal(end?.details.commandSha256, start?.details.commandSha256);
  } finally {
    await rm(context.dir, { recursive: true, force: true });
  }
});

test('when the start record cannot be queued, the command does not run', async () => {
  const context = await setup();
  try {
    await chmod(context.dir, 0o500);
    if (process.getuid?.() === 0) await rm(context.dir, { recursive: true, force: true });
    await assert.rejects(runExec(context.deps, callFor(['touch', 'ran'])), (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'audit_unavailable');
      assert.match((error as Error).message, /the command was not run/);
      return true;
    });
    assert.deepEqual(context.provider.execs, []);
    assert.equal(context.logged.length, 1, 'the command log is written first');
  } finally {
    await chmod(context.dir, 0o700).catch(() => undefined);
    await rm(context.dir, { recursive: true, force: true });
  }
});

test('a command that fails to run gets an end record with outcome failure', async () => {
  const context = await setup(() => {
    throw new Error('envd went away');
  });
  try {
    await assert.rejects(runExec(context.deps, callFor(['true'])), /envd went away/);
    assert.deepEqual(stages(context.queue.pending()), [
      ['environment.exec', 'start', 'success'],
      ['environment.exec', 'end', 'failure'],
    ]);
    // Only the code reaches the audit record; a message can carry the program name or a path.
    assert.equal(context.queue.pending()[1]?.details.error, 'internal');
    assert.ok(!JSON.stringify(context.queue.pending()).includes('envd went away'));
  } finally {
    await rm(context.dir, { recursive: true, force: true });
  }
});
