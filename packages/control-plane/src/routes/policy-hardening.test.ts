import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DesiredEnvironment, Environment, ErrorBody, OrgPolicy } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';

async function setPolicy(t: TestControlPlane, body: Record<string, unknown>) {
  const response = await t.request<OrgPolicy>('PATCH', '/v1/org/policy', { body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

function create(t: TestControlPlane, body: Record<string, unknown>) {
  return t.request<Environment & ErrorBody>('POST', '/v1/environments', { body });
}

function assertPolicyRefusal(
  response: { status: number; body: ErrorBody },
  policy: string,
  field?: string,
) {
  assert.equal(response.status, 403, JSON.stringify(response.body));
  assert.equal(response.body.policy, policy);
  assert.match(response.body.message, new RegExp(`\\b${policy}\\b`));
  if (field) assert.ok(response.body.fields?.some((item) => item.field === field));
}

async function stopped(t: TestControlPlane, runner: ProtocolRunner, id: string) {
  runner.reportStatus(id, { phase: 'running' }, 1);
  await waitForPhase(t, id, 'running');
  assert.equal((await t.request('POST', `/v1/environments/${id}/stop`)).status, 202);
  runner.reportStatus(id, { phase: 'stopped' }, 2);
  await waitForPhase(t, id, 'stopped');
}

for (const backend of testBackends()) {
  describe(`policy hardening on ${backend.kind}`, () => {
    test('repository URLs are refused when git could read them as another repository', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        await setPolicy(t, {
          allowedRepositoryPatterns: [
            'https://git.example.test/acme/**',
            'https://*.example.test/**',
            '/srv/git/**',
          ],
        });
        for (const url of [
          'https://git.example.test/acme/../evil/repo.git',
          'https://git.example.test/acme/%2E%2e/evil/repo.git',
          'https://evil.invalid?.example.test/x.git',
          'https://evil.invalid#.example.test/x.git',
          'https://evil.invalid:443?.example.test/x.git',
          '/srv/git/../../home/victim/secret-repo',
          'file:///srv/git/..',
        ]) {
          const refused = await create(t, { repository: { url } });
          assert.equal(refused.status, 400, `${url}: ${JSON.stringify(refused.body)}`);
          assert.deepEqual(
            refused.body.fields?.map((item) => item.field),
            ['repository.url'],
          );
        }
        const made = await create(t, {
          repository: { url: 'HTTPS://Git.Example.TEST/acme/Api.git' },
        });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        const canonical = 'https://git.example.test/acme/Api.git';
        assert.equal(made.body.spec.repository?.url, canonical, 'the spec keeps the checked form');
        const pushed = await runner.waitFor<{
          type: 'environment';
          environment: DesiredEnvironment;
        }>((message) => message.type === 'environment' && message.environment.id === made.body.id);
        assert.equal(pushed.environment.spec.repository?.url, canonical, 'and the runner gets it');
        const local = await create(t, { repository: { url: '/srv/git/./team//repo/' } });
        assert.equal(local.body.spec.repository?.url, '/srv/git/team/repo');
      } finally {
        await t.close();
      }
    });

    test("a project's runners serve only environments of that project", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: secure } = await connectedRunner(t, 'r-secure');
        const { runner: general } = await connectedRunner(t, 'r-general');
        await setPolicy(t, {
          projects: [
            {
              name: 'payments',
              repositoryPatterns: ['https://git.example.test/payments/*'],
              runners: ['r-secure'],
            },
            { name: 'docs', repositoryPatterns: ['https://git.example.test/**'], runners: [] },
          ],
        });
        const other = { url: 'https://git.example.test/anything/else.git' };
        const plain = await create(t, { repository: other, runnerId: secure.runnerId });
        assertPolicyRefusal(plain, 'projects', 'runnerId');
        assert.match(plain.body.message, /reserved .* for payments/);
        const docs = await create(t, {
          project: 'docs',
          repository: other,
          runnerId: secure.runnerId,
        });
        assertPolicyRefusal(docs, 'projects', 'runnerId');

        const picked = await create(t, { repository: other });
        assert.equal(picked.status, 201, JSON.stringify(picked.body));
        assert.equal(picked.body.runnerId, general.runnerId, 'a reserved runner is never picked');
        const payments = await create(t, {
          project: 'payments',
          repository: { url: 'https://git.example.test/payments/api' },
        });
        assert.equal(payments.body.runnerId, secure.runnerId);
      } finally {
        await t.close();
      }
    });

    test('start checks the repository, class, project and runner rules in force now', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t, 'r1');
        const contractor = { url: 'https://git.example.test/contractor/tool.git' };
        const first = await createEnvironment(t, { repository: contractor });
        const second = await createEnvironment(t, { repository: contractor });
        await stopped(t, runner, first.id);
        await stopped(t, runner, second.id);
        const start = (id: string) => t.request<ErrorBody>('POST', `/v1/environments/${id}/start`);

        await setPolicy(t, { allowedRepositoryPatterns: ['https://git.example.test/acme/*'] });
        assertPolicyRefusal(await start(first.id), 'allowedRepositoryPatterns');
        await setPolicy(t, { allowedRepositoryPatterns: null, allowedClasses: ['large'] });
        assertPolicyRefusal(await start(first.id), 'allowedClasses');
        await setPolicy(t, {
          allowedClasses: null,
          projects: [
            { name: 'tools', repositoryPatterns: ['https://git.example.test/**'], runners: ['r1'] },
          ],
        });
        assertPolicyRefusal(await start(first.id), 'projects');

        await setPolicy(t, { projects: null });
        const started = await start(second.id);
        assert.equal(started.status, 202, JSON.stringify(started.body));
        const environment = await t.request<Environment>('GET', `/v1/environments/${first.id}`);
        assert.equal(
          environment.body.spec.desiredPhase,
          'stopped',
          'refused starts change nothing',
        );
      } finally {
        await t.close();
      }
    });
  });
}
