import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditRecord } from '@hangar/api';
import { addUser } from '@hangar/control-plane/testing/users.js';
import type { RunningRunner } from '@hangar/runner';
import { HttpClient } from './http-client.js';
import { type CaptureOptions, runMain } from './testing/capture-io.js';
import { startTestControlPlane, type TestControlPlane } from './testing/control-plane.js';
import { startTestRunner } from './testing/runner.js';

let cp: TestControlPlane;
let runner: RunningRunner;
let root: string;
let owner: HttpClient;
let memberEnv: Record<string, string>;
let environmentId: string;

const reason = 'incident 4712: look at what this build writes to /tmp';

function run(argv: string[], options: CaptureOptions = {}) {
  return runMain(argv, { env: cp.env, cwd: root, ...options });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-break-glass-'));
  await chmod(root, 0o755);
  cp = await startTestControlPlane();
  runner = await startTestRunner(cp, { name: 'break-glass', dataDir: join(root, 'runner') });
  owner = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
  const member = await addUser(cp.cp.context, { orgId: cp.orgId, role: 'member' });
  memberEnv = { HANGAR_URL: cp.url, HANGAR_TOKEN: member.token };
  const created = await run(['env', 'create', '--name', 'theirs', '--wait', '--json'], {
    env: memberEnv,
  });
  assert.equal(created.code, 0, created.stderr);
  environmentId = (JSON.parse(created.stdout) as { id: string }).id;
});

after(async () => {
  await run(['env', 'delete', 'theirs', '--wait'], { env: memberEnv }).catch(() => undefined);
  await runner?.close();
  await cp?.close();
  await rm(root, { recursive: true, force: true });
});

describe('env exec --break-glass against a real runner', () => {
  it("opens another member's environment only with a reason and the policy on", async () => {
    const exec = (extra: string[]) =>
      run(['env', 'exec', environmentId, ...extra, '--no-stdin', '--', 'echo', 'opened']);
    const plain = await exec([]);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /only the owner of this environment may open it/);

    const off = await exec(['--break-glass', reason]);
    assert.equal(off.code, 1);
    assert.match(off.stderr, /^error forbidden: break-glass access is off: .*policy breakGlass/);

    await owner.json('PATCH', '/v1/org/policy', { body: { breakGlass: true } });
    const short = await exec(['--break-glass', 'why']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--break-glass needs a reason of at least 10 characters/);

    const opened = await exec(['--break-glass', reason]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(opened.stdout, 'opened\n');
    const page = await owner.get<{ records: AuditRecord[] }>('/v1/audit', {
      action: 'environment.break-glass',
    });
    assert.equal(page.records.length, 1);
    assert.equal(page.records[0]?.details.reason, reason);
    assert.equal(page.records[0]?.details.operations, 'exec');
    assert.equal(page.records[0]?.actor.id, cp.userId);
  });
});
