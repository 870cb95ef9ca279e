import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord, Environment, ErrorBody, OrgPolicy, RunnerClass } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

const small: RunnerClass = { name: 'small', cpu: 1, memoryMiB: 512, pids: 256 };
const large: RunnerClass = { name: 'large', cpu: 4, memoryMiB: 4096, pids: 1024 };

async function setPolicy(t: TestControlPlane, body: Record<string, unknown>) {
  const response = await t.request<OrgPolicy>('PATCH', '/v1/org/policy', { body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

function create(t: TestControlPlane, body: Record<string, unknown>, token?: string) {
  return t.request<Environment & ErrorBody>('POST', '/v1/environments', {
    body,
    ...(token ? { token } : {}),
  });
}

/** Asserts a 403 whose message names the policy, audited as a denied access. */
async function assertRefusedBy(
  t: TestControlPlane,
  response: { status: number; body: ErrorBody; requestId: string },
  policy: string,
) {
  assert.equal(response.status, 403, JSON.stringify(response.body));
  assert.equal(response.body.code, 'forbidden');
  assert.match(response.body.message, new RegExp(`\\b${policy}\\b`));
  assert.equal(response.body.policy, policy, 'the body names the policy for programs');
  const denied = await t.request<{ records: AuditRecord[] }>(
    'GET',
    '/v1/audit?action=access.denied',
  );
  assert.ok(denied.body.records.some((record) => record.requestId === response.requestId));
}

/** A runner that reports `classes` in its hello. */
async function runnerWithClasses(t: TestControlPlane, name: string, classes: RunnerClass[]) {
  const created = await t.request<{ enrollmentToken: string; runner: { id: string } }>(
    'POST',
    '/v1/runners',
    { body: { name } },
  );
  const runner = new ProtocolRunner(t.url);
  await runner.enroll(created.body.enrollmentToken);
  await runner.connect({ classes });
  return runner;
}

/** Makes the environment running, then stopped, as its runner reports them. */
async function stoppedEnvironment(t: TestControlPlane, runner: ProtocolRunner, id: string) {
  runner.reportStatus(id, { phase: 'running' }, 1);
  await waitForPhase(t, id, 'running');
  const stop = await t.request('POST', `/v1/environments/${id}/stop`);
  assert.equal(stop.status, 202, JSON.stringify(stop.body));
  runner.reportStatus(id, { phase: 'stopped' }, 2);
  await waitForPhase(t, id, 'stopped');
}

for (const backend of testBackends()) {
  describe(`policy enforcement on ${backend.kind}`, () => {
    test('allowedRepositoryPatterns refuses other repositories, allows none at all', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t);
        await setPolicy(t, { allowedRepositoryPatterns: ['https://git.example.test/acme/*'] });
        const refused = await create(t, {
          repository: { url: 'https://git.example.test/other/api.git' },
        });
        await assertRefusedBy(t, refused, 'allowedRepositoryPatterns');
        assert.ok(refused.body.fields?.some((item) => item.field === 'repository.url'));
        const nested = await create(t, {
          repository: { url: 'https://git.example.test/acme/a/b.git' },
        });
        await assertRefusedBy(t, nested, 'allowedRepositoryPatterns');
        const allowed = await create(t, {
          repository: { url: 'https://git.example.test/acme/api.git' },
        });
        assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
        assert.equal((await create(t, {})).status, 201);
        const created = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=environment.create',
        );
        assert.equal(created.body.records.length, 2, 'refused creates make nothing');
      } finally {
        await t.close();
      }
    });

    test('allowedClasses refuses other classes and picks an allowed one by default', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await runnerWithClasses(t, 'r1', [small, large]);
        assert.equal((await create(t, {})).body.spec.class, 'small');
        await setPolicy(t, { allowedClasses: ['large'] });
        const refused = await create(t, { class: 'small' });
        await assertRefusedBy(t, refused, 'allowedClasses');
        assert.ok(refused.body.fields?.some((item) => item.field === 'class'));
        const chosen = await create(t, {});
        assert.equal(chosen.status, 201);
        assert.equal(chosen.body.spec.class, 'large');
        await setPolicy(t, { allowedClasses: ['huge'] });
        await assertRefusedBy(t, await create(t, {}), 'allowedClasses');
      } finally {
        await t.close();
      }
    });

    test('projects: unknown names, repositories and runners outside them are refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: first } = await connectedRunner(t, 'r-general');
        await connectedRunner(t, 'r-web');
        const webPattern = 'https://git.example.test/web/*';
        await setPolicy(t, {
          projects: [
            { name: 'web', repositoryPatterns: [webPattern], runners: ['r-web'] },
            { name: 'any', repositoryPatterns: ['https://git.example.test/**'], runners: [] },
          ],
        });
        const site = { url: 'https://git.example.test/web/site.git' };

        const unknown = await create(t, { project: 'mobile', repository: site });
        await assertRefusedBy(t, unknown, 'projects');
        assert.match(unknown.body.message, /project mobile is not one of/);
        const outside = await create(t, {
          project: 'web',
          repository: { url: 'https://git.example.test/api/server.git' },
        });
        await assertRefusedBy(t, outside, 'projects');
        assert.match(outside.body.message, /project web .* does not allow the repository/);
        const bare = await create(t, { project: 'web' });
        await assertRefusedBy(t, bare, 'projects');
        assert.match(bare.body.message, /project web .* needs a repository/);
        const wrongRunner = await create(t, {
          project: 'web',
          repository: site,
          runnerId: first.runnerId,
        });
        await assertRefusedBy(t, wrongRunner, 'projects');
        assert.match(wrongRunner.body.message, /may not use runner r-general/);

        const placed = await create(t, { project: 'web', repository: site });
        assert.equal(placed.status, 201, JSON.stringify(placed.body));
        assert.notEqual(placed.body.runnerId, first.runnerId, 'only the project runners count');
        assert.equal(placed.body.spec.project, 'web');
        const general = await create(t, { project: 'any', repository: site });
        assert.equal(general.body.runnerId, first.runnerId, 'no runners listed: any runner');
        const plain = await create(t, { repository: site });
        assert.equal(plain.body.runnerId, first.runnerId);
        assert.equal(plain.body.spec.project, undefined);
      } finally {
        await t.close();
      }
    });

    test('maxRunningPerUser refuses create and start past the limit, per owner', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        await setPolicy(t, { maxRunningPerUser: 1 });
        const first = await createEnvironment(t, { name: 'first' });
        await assertRefusedBy(t, await create(t, { name: 'second' }), 'maxRunningPerUser');
        const theirs = await create(t, { name: 'theirs' }, member.token);
        assert.equal(theirs.status, 201, 'the limit is per user');

        await stoppedEnvironment(t, runner, first.id);
        const second = await createEnvironment(t, { name: 'second' });
        const start = await t.request<ErrorBody>('POST', `/v1/environments/${first.id}/start`);
        await assertRefusedBy(t, start, 'maxRunningPerUser');
        assert.match(start.body.message, /you already have 1 running/);

        await stoppedEnvironment(t, runner, theirs.body.id);
        await create(t, { name: 'theirs-too' }, member.token);
        const byAdmin = await t.request<ErrorBody>(
          'POST',
          `/v1/environments/${theirs.body.id}/start`,
        );
        await assertRefusedBy(t, byAdmin, 'maxRunningPerUser');
        assert.match(byAdmin.body.message, /its owner already has 1 running/);

        runner.reportStatus(second.id, { phase: 'running' }, 1);
        await waitForPhase(t, second.id, 'running');
        await t.request('POST', `/v1/environments/${second.id}/stop`);
        const again = await t.request('POST', `/v1/environments/${first.id}/start`);
        assert.equal(again.status, 202, 'a stopped environment frees its place');
      } finally {
        await t.close();
      }
    });

    test('maxRunningPerOrg counts every owner; deleted and stopped ones do not count', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        await setPolicy(t, { maxRunningPerOrg: 2 });
        const mine = await createEnvironment(t, { name: 'mine' });
        assert.equal((await create(t, { name: 'theirs' }, member.token)).status, 201);
        const third = await create(t, { name: 'third' }, member.token);
        await assertRefusedBy(t, third, 'maxRunningPerOrg');
        assert.match(third.body.message, /maxRunningPerOrg is 2 and the organization already/);

        await stoppedEnvironment(t, runner, mine.id);
        assert.equal((await create(t, { name: 'third' }, member.token)).status, 201);
        const start = await t.request<ErrorBody>('POST', `/v1/environments/${mine.id}/start`);
        await assertRefusedBy(t, start, 'maxRunningPerOrg');
        await setPolicy(t, { maxRunningPerOrg: null });
        assert.equal((await create(t, { name: 'fourth' })).status, 201, 'cleared: no limit');
      } finally {
        await t.close();
      }
    });

    test('concurrent creates under maxRunningPerUser=1 create exactly one', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t);
        await setPolicy(t, { maxRunningPerUser: 1 });
        const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
        const responses = await Promise.all(names.map((name) => create(t, { name })));
        const statuses = responses.map((response) => response.status).sort();
        assert.deepEqual(statuses, [201, 403, 403, 403, 403, 403]);
        for (const refused of responses.filter((response) => response.status === 403)) {
          assert.match(refused.body.message, /maxRunningPerUser/);
        }
        const listed = await t.request<{ environments: Environment[] }>('GET', '/v1/environments');
        assert.equal(listed.body.environments.length, 1);
      } finally {
        await t.close();
      }
    });
  });
}
