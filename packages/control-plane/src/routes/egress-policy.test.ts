import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DesiredEnvironment, EgressPolicy, ErrorBody, OrgPolicy } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { createEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';

const classes = [
  { name: 'small', cpu: 1, memoryMiB: 512, pids: 256 },
  { name: 'large', cpu: 2, memoryMiB: 1024, pids: 512 },
];

const policy: EgressPolicy = {
  default: { mode: 'open' },
  classes: {
    small: {
      mode: 'allowlist',
      allow: [{ host: 'registry.example.test' }, { host: '*.pkg.example.test', ports: [8443] }],
      allowPrivate: ['10.20.0.0/16'],
    },
  },
  agents: { mode: 'none' },
};

async function runnerWithClasses(t: TestControlPlane): Promise<ProtocolRunner> {
  const created = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
    body: { name: 'r1' },
  });
  const runner = new ProtocolRunner(t.url);
  await runner.enroll(created.body.enrollmentToken);
  await runner.connect({ classes });
  return runner;
}

/** The `count`-th desired state pushed for the environment (welcomes not counted). */
async function pushed(runner: ProtocolRunner, id: string, count: number) {
  const pushes = () =>
    runner.received.flatMap((m) =>
      m.type === 'environment' && m.environment.id === id ? [m.environment] : [],
    );
  await runner.waitFor(() => pushes().length >= count);
  const push: DesiredEnvironment | undefined = pushes()[count - 1];
  assert.ok(push);
  return push;
}

function patch(t: TestControlPlane, body: unknown) {
  return t.request<OrgPolicy & ErrorBody>('PATCH', '/v1/org/policy', { body });
}

for (const backend of testBackends()) {
  describe(`egress policy on ${backend.kind}`, () => {
    test('each environment gets its class rule, else the default, pushed on every change', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const runner = await runnerWithClasses(t);
        const small = await createEnvironment(t, { class: 'small' });
        const large = await createEnvironment(t, { class: 'large' });
        assert.equal((await pushed(runner, small.id, 1)).egress, undefined, 'no policy: none');

        const set = await patch(t, { egress: policy });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        assert.deepEqual(set.body.egress, policy);
        const smallPush = await pushed(runner, small.id, 2);
        assert.deepEqual(smallPush.egress, policy.classes?.small);
        assert.equal(smallPush.generation, small.generation, 'nothing restarts for it');
        assert.deepEqual((await pushed(runner, large.id, 2)).egress, { mode: 'open' });

        const later = await createEnvironment(t, { class: 'large' });
        assert.deepEqual((await pushed(runner, later.id, 1)).egress, { mode: 'open' });

        const cleared = await patch(t, { egress: null });
        assert.equal(cleared.status, 200);
        assert.equal(cleared.body.egress, undefined);
        assert.equal((await pushed(runner, small.id, 3)).egress, undefined);
        assert.equal((await pushed(runner, later.id, 2)).egress, undefined);

        const unrelated = await patch(t, { maxRunningPerUser: 5 });
        assert.equal(unrelated.status, 200);
        const welcome = await runner.connect({ classes });
        assert.equal(welcome.type, 'welcome');
        const count = runner.received.filter((m) => m.type === 'environment').length;
        assert.equal(count, 8, 'a change of another rule pushes nothing');
      } finally {
        await t.close();
      }
    });

    test('a welcome carries the rule too', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const runner = await runnerWithClasses(t);
        const small = await createEnvironment(t, { class: 'small' });
        assert.equal((await patch(t, { egress: policy })).status, 200);
        await pushed(runner, small.id, 2);
        runner.close();
        const welcome = await runner.connect({ classes });
        assert.ok(welcome.type === 'welcome');
        const desired = welcome.environments.find((environment) => environment.id === small.id);
        assert.deepEqual(desired?.egress, policy.classes?.small);
      } finally {
        await t.close();
      }
    });

    test('a policy that cannot mean what it says is refused, naming each field', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const bad = await patch(t, {
          egress: {
            default: { mode: 'open', allow: [{ host: 'example.test' }] },
            classes: {
              small: {
                mode: 'allowlist',
                allow: [
                  { host: '1.2.3.999' },
                  { host: 'host.123' },
                  { host: 'ok.example.test', ports: [443, 443] },
                ],
                allowPrivate: ['10.0.0.1/8', '300.0.0.0/8'],
              },
            },
            agents: { mode: 'allowlist', allowPrivate: ['fd00::/129'] },
          },
        });
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        assert.equal(bad.body.code, 'invalid_request');
        assert.deepEqual(
          bad.body.fields?.map((field) => field.field),
          [
            'egress.default.allow',
            'egress.classes.small.allow[0].host',
            'egress.classes.small.allow[1].host',
            'egress.classes.small.allow[2].ports',
            'egress.classes.small.allowPrivate[0]',
            'egress.classes.small.allowPrivate[1]',
            'egress.agents.allowPrivate[0]',
          ],
        );
        assert.match(bad.body.message, /^the policy change is not valid: egress\.default\.allow /);
        const cidr = bad.body.fields?.find(
          (f) => f.field === 'egress.classes.small.allowPrivate[0]',
        );
        assert.match(cidr?.message ?? '', /host bits set; write 10\.0\.0\.0\/8/);
        const schema = await patch(t, { egress: { default: { mode: 'sometimes' } } });
        assert.equal(schema.status, 400);
        assert.match(JSON.stringify(schema.body.fields), /egress/);
        const read = await t.request<OrgPolicy>('GET', '/v1/org/policy');
        assert.equal(read.body.egress, undefined, 'nothing was stored');
      } finally {
        await t.close();
      }
    });
  });
}
