import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Environment } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import {
  connectedRunner,
  createEnvironment,
  runningEnvironment,
  waitForPhase,
} from '../testing/fixtures.js';
import { startTestControlPlane } from '../testing/harness.js';

for (const backend of testBackends()) {
  describe(`environments API on ${backend.kind}`, () => {
    test('create validates every field and refuses unknown ones', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t);
        const cases: [unknown, string][] = [
          [{ bogus: true }, 'bogus'],
          [{ repository: { url: 'https://user:secret@example.invalid/r.git' } }, 'repository.url'],
          [{ repository: { url: 'ext::sh -c touch% /tmp/pwned' } }, 'repository.url'],
          [{ repository: { url: '--upload-pack=evil' } }, 'repository.url'],
          [{ repository: { url: '/srv/repo', ref: '-x' } }, 'repository.ref'],
          [{ repository: { url: '/srv/repo', extra: 1 } }, 'repository.extra'],
          [{ name: 'Not A Name' }, 'name'],
          [{ class: 'huge' }, 'class'],
          [{ devcontainerPath: '../../etc/passwd' }, 'devcontainerPath'],
          [{ devcontainerPath: '/etc/passwd' }, 'devcontainerPath'],
        ];
        for (const [body, field] of cases) {
          const response = await t.request<{ code: string; fields: { field: string }[] }>(
            'POST',
            '/v1/environments',
            { body },
          );
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.code, 'invalid_request');
          assert.ok(
            response.body.fields.some((item) => item.field === field),
            `${JSON.stringify(body)} -> ${JSON.stringify(response.body.fields)}`,
          );
        }
        const secret = await t.request('GET', '/v1/audit?action=environment.create');
        assert.doesNotMatch(JSON.stringify(secret.body), /secret/);
      } finally {
        await t.close();
      }
    });

    test('create stores the spec, pushes it to the runner and audits it', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t, {
          name: 'demo',
          repository: { url: '/srv/git/demo.git', ref: 'feature/x' },
        });
        assert.equal(environment.status.phase, 'creating');
        assert.equal(environment.spec.desiredPhase, 'running');
        assert.equal(environment.spec.class, 'small');
        const pushed = await runner.waitFor((m) => m.type === 'environment');
        assert.equal(pushed.type === 'environment' && pushed.environment.id, environment.id);
        const again = await t.request('POST', '/v1/environments', { body: { name: 'demo' } });
        assert.equal(again.status, 409);
        const audit = await t.request<{ records: { target: { id: string } }[] }>(
          'GET',
          '/v1/audit?action=environment.create',
        );
        assert.equal(audit.body.records.length, 1);
        assert.equal(audit.body.records[0]?.target.id, environment.id);
      } finally {
        await t.close();
      }
    });

    test('only the runner writes status, and each transition happens once', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t);
        const stopEarly = await t.request<{ code: string }>(
          'POST',
          `/v1/environments/${environment.id}/stop`,
        );
        assert.equal(stopEarly.status, 409);
        assert.equal(stopEarly.body.code, 'operation_in_progress');
        assert.match(JSON.stringify(stopEarly.body), /create is in progress/);

        runner.reportStatus(environment.id, { phase: 'running' }, 1);
        await waitForPhase(t, environment.id, 'running');

        const [first, second] = await Promise.all([
          t.request('POST', `/v1/environments/${environment.id}/stop`),
          t.request('POST', `/v1/environments/${environment.id}/start`),
        ]);
        const statuses = [first.status, second.status].sort();
        assert.ok(
          JSON.stringify(statuses) === '[200,202]' || JSON.stringify(statuses) === '[202,409]',
          `concurrent stop and start answered ${statuses.join(', ')}`,
        );
        const current = await t.request<Environment>('GET', `/v1/environments/${environment.id}`);
        assert.equal(current.body.generation, 2, 'exactly one transition');

        const repeat = await t.request<Environment>(
          'POST',
          `/v1/environments/${environment.id}/${current.body.spec.desiredPhase === 'stopped' ? 'stop' : 'start'}`,
        );
        assert.equal(repeat.status, 200, 'a repeated request is a no-op');
        assert.equal(repeat.body.generation, 2);
      } finally {
        await t.close();
      }
    });

    test('delete works from every phase, failed included', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t);
        for (const phase of ['creating', 'running', 'failed', 'stopped'] as const) {
          const environment = await createEnvironment(t);
          if (phase !== 'creating') runner.reportStatus(environment.id, { phase }, 1);
          if (phase !== 'creating') await waitForPhase(t, environment.id, phase);
          const deleted = await t.request<Environment>(
            'DELETE',
            `/v1/environments/${environment.id}`,
          );
          assert.equal(deleted.status, 202, `delete from ${phase}`);
          assert.equal(deleted.body.spec.desiredPhase, 'deleted');
          runner.reportStatus(environment.id, { phase: 'deleted' }, 2);
          await waitForPhase(t, environment.id, 'deleted');
          const gone = await t.request('POST', `/v1/environments/${environment.id}/start`);
          assert.equal(gone.status, 404);
        }
        const list = await t.request<{ environments: unknown[] }>('GET', '/v1/environments');
        assert.equal(list.body.environments.length, 0);
        const all = await t.request<{ environments: unknown[] }>(
          'GET',
          '/v1/environments?includeDeleted=true',
        );
        assert.equal(all.body.environments.length, 4);
      } finally {
        await t.close();
      }
    });

    test('a status for another runner environment is ignored', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'owner-runner');
        const environment = await createEnvironment(t);
        const { runner: other } = await connectedRunner(t, 'other-runner');
        other.reportStatus(environment.id, { phase: 'running' }, 1);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const current = await t.request<Environment>('GET', `/v1/environments/${environment.id}`);
        assert.equal(current.body.status.phase, 'creating');
      } finally {
        await t.close();
      }
    });

    test('an operation whose runner vanished fails with a reason', async () => {
      const t = await startTestControlPlane(backend, { operationTimeoutMs: 1000 });
      try {
        const { runner } = await connectedRunner(t);
        const environment = await createEnvironment(t);
        runner.close();
        const failed = await waitForPhase(t, environment.id, 'failed');
        assert.equal(failed.status.failure?.reason, 'RunnerUnavailable');
        assert.match(
          failed.status.failure?.message ?? '',
          /went away while the environment was creating/,
        );
        const audit = await t.request<{ records: unknown[] }>(
          'GET',
          '/v1/audit?action=environment.fail',
        );
        assert.equal(audit.body.records.length, 1);
      } finally {
        await t.close();
      }
    });

    test('an access grant is signed for the owner only, and audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const grant = await t.request<{ token: string; gatewayUrl: string; runnerId: string }>(
          'POST',
          `/v1/environments/${environment.id}/access`,
          { body: { operations: ['exec'] } },
        );
        assert.equal(grant.status, 201);
        assert.equal(grant.body.runnerId, runner.runnerId);
        assert.match(grant.body.token, /^hat1\./);
        const bad = await t.request('POST', `/v1/environments/${environment.id}/access`, {
          body: { operations: ['root'] },
        });
        assert.equal(bad.status, 400);
        const audit = await t.request<{ records: { details: Record<string, unknown> }[] }>(
          'GET',
          '/v1/audit?action=environment.access',
        );
        assert.equal(audit.body.records.length, 1);
        assert.doesNotMatch(JSON.stringify(audit.body), /hat1\./);
      } finally {
        await t.close();
      }
    });
  });
}
