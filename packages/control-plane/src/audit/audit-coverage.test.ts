import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateEd25519, type AuditRecord, type Environment } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { connectedRunner, createEnvironment, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { startTestOidcProvider } from '../testing/oidc-provider.js';
import { putSecret, testAuthor } from '../testing/secrets.js';
import { addUser } from '../testing/users.js';

type Case = (t: TestControlPlane) => Promise<{ status: number; requestId: string }>;

/**
 * One valid call for every state-changing route. A new route without a case here fails the
 * test, so no action can be added without proving that it is audited.
 */
async function cases(t: TestControlPlane): Promise<Record<string, Case>> {
  const { runner } = await connectedRunner(t, 'audited');
  const running = await createEnvironment(t);
  runner.reportStatus(running.id, { phase: 'running' }, 1);
  await waitForPhase(t, running.id, 'running');
  const stopped = await createEnvironment(t);
  runner.reportStatus(stopped.id, { phase: 'stopped' }, 1);
  await t.request('POST', `/v1/environments/${stopped.id}/stop`);
  await waitForPhase(t, stopped.id, 'stopped');
  const publicKey = ed25519Line(runner.keys.publicKey);
  return {
    'POST /v1/tokens': (t) =>
      t.request('POST', '/v1/tokens', { body: { scopes: ['environments:read'], expiresInS: 600 } }),
    'DELETE /v1/tokens/:id': async (t) => {
      const made = await t.request<{ apiToken: { id: string } }>('POST', '/v1/tokens', {
        body: { scopes: ['environments:read'], expiresInS: 600 },
      });
      return t.request('DELETE', `/v1/tokens/${made.body.apiToken.id}`);
    },
    'POST /v1/runners': (t) => t.request('POST', '/v1/runners', { body: { name: 'another' } }),
    'POST /v1/runners/:id/disable': async (t) => {
      const made = await t.request<{ runner: { id: string } }>('POST', '/v1/runners', {
        body: { name: 'disabled' },
      });
      return t.request('POST', `/v1/runners/${made.body.runner.id}/disable`);
    },
    'POST /v1/runners/:id/enable': async (t) => {
      const made = await t.request<{ runner: { id: string } }>('POST', '/v1/runners', {
        body: { name: 'enabled' },
      });
      await t.request('POST', `/v1/runners/${made.body.runner.id}/disable`);
      return t.request('POST', `/v1/runners/${made.body.runner.id}/enable`);
    },
    'POST /v1/runners/:id/rotate-key': (t) =>
      t.request('POST', `/v1/runners/${runner.runnerId}/rotate-key`),
    'POST /v1/runners/enroll': async (t) => {
      const made = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
        body: { name: 'enrolling' },
      });
      return t.request('POST', '/v1/runners/enroll', {
        token: null,
        body: { enrollmentToken: made.body.enrollmentToken, publicKey: runner.keys.publicKey },
      });
    },
    'POST /v1/environments': (t) => t.request('POST', '/v1/environments', { body: {} }),
    'POST /v1/environments/:id/stop': (t) =>
      t.request('POST', `/v1/environments/${running.id}/stop`),
    'POST /v1/environments/:id/start': (t) =>
      t.request('POST', `/v1/environments/${stopped.id}/start`),
    'DELETE /v1/environments/:id': (t) => t.request('DELETE', `/v1/environments/${stopped.id}`),
    'POST /v1/environments/:id/access': (t) =>
      t.request('POST', `/v1/environments/${running.id}/access`, {
        body: { operations: ['exec'] },
      }),
    'POST /v1/ssh-keys': (t) => t.request('POST', '/v1/ssh-keys', { body: { publicKey } }),
    'DELETE /v1/ssh-keys/:id': async (t) => {
      const listed = await t.request<{ sshKeys: { id: string }[] }>('GET', '/v1/ssh-keys');
      return t.request('DELETE', `/v1/ssh-keys/${listed.body.sshKeys[0]?.id ?? 'none'}`);
    },
    'PUT /v1/environments/:id/ports/:port': (t) =>
      t.request('PUT', `/v1/environments/${running.id}/ports/3000`, { body: { level: 'org' } }),
    'POST /v1/environments/:id/ports/:port/access': (t) =>
      t.request('POST', `/v1/environments/${running.id}/ports/3000/access`),
    'PATCH /v1/org/policy': (t) =>
      t.request('PATCH', '/v1/org/policy', { body: { maxPortShareLevel: 'public' } }),
    'PUT /v1/org/oidc': putOidc,
    'DELETE /v1/org/oidc': async (t) => {
      await putOidc(t);
      return t.request('DELETE', '/v1/org/oidc');
    },
    'POST /v1/auth/logout': async (t) => {
      const made = await t.request<{ token: string }>('POST', '/v1/tokens', {
        body: { scopes: ['environments:read'], expiresInS: 600 },
      });
      return t.request('POST', '/v1/auth/logout', { token: made.body.token });
    },
    'DELETE /v1/auth/web-session': async (t) => {
      const made = await t.request<{ token: string }>('POST', '/v1/tokens', {
        body: { scopes: ['environments:read'], expiresInS: 600 },
      });
      return t.request('DELETE', '/v1/auth/web-session', { token: made.body.token });
    },
    'POST /v1/signing-keys': (t) =>
      t.request('POST', '/v1/signing-keys', { body: { publicKey: generateEd25519().publicKey } }),
    'DELETE /v1/signing-keys/:id': async (t) => {
      const author = await testAuthor(t);
      return t.request('DELETE', `/v1/signing-keys/${author.signingKeyId}`);
    },
    'PUT /v1/secrets': async (t) =>
      putSecret(t, await testAuthor(t), { name: 'AUDITED', value: 'audited value' }),
    'DELETE /v1/secrets/:id': async (t) => {
      const made = await putSecret(t, await testAuthor(t), { name: 'GONE', value: 'gone value' });
      return t.request('DELETE', `/v1/secrets/${String(made.body.id)}`);
    },
    'POST /v1/members': (t) =>
      t.request('POST', '/v1/members', {
        body: { issuer: 'https://id.example.test', subject: 'added', role: 'member' },
      }),
    'PATCH /v1/members/:id': async (t) => {
      const made = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
      return t.request('PATCH', `/v1/members/${made.userId}`, { body: { role: 'auditor' } });
    },
    'DELETE /v1/members/:id': async (t) => {
      const made = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
      return t.request('DELETE', `/v1/members/${made.userId}`);
    },
    'POST /v1/agent-tasks': agentTask,
    'POST /v1/agent-tasks/:id/stop': async (t) => {
      const made = await agentTask(t);
      return t.request('POST', `/v1/agent-tasks/${String(made.body.id)}/stop`);
    },
  };
}

/** An agent task in a fresh environment of the owner's (the shared ones are stopped by then). */
async function agentTask(t: TestControlPlane) {
  const environment = await createEnvironment(t);
  return t.request('POST', '/v1/agent-tasks', {
    body: {
      environmentId: environment.id,
      promptSha256: 'a'.repeat(64),
      model: { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'audited' },
    },
  });
}

/** Sets the organization's provider to a real one, which is only read while the PUT runs. */
async function putOidc(t: TestControlPlane) {
  const provider = await startTestOidcProvider({ redirectUris: [`${t.url}/v1/auth/callback`] });
  try {
    return await t.request('PUT', '/v1/org/oidc', {
      body: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
      },
    });
  } finally {
    await provider.close();
  }
}

/** A valid OpenSSH public key line: the Ed25519 key of the runner's key pair. */
function ed25519Line(rawBase64url: string): string {
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const blob = Buffer.concat([
    ...field(Buffer.from('ssh-ed25519')),
    ...field(Buffer.from(rawBase64url, 'base64url')),
  ]);
  return `ssh-ed25519 ${blob.toString('base64')}`;
}

for (const backend of testBackends()) {
  describe(`audit coverage on ${backend.kind}`, () => {
    test('every state-changing route writes an audit record with its request id', async () => {
      const t = await startTestControlPlane(backend, { oidcAllowHttpLoopbackIssuers: true });
      try {
        const table = await cases(t);
        const mutating = t.cp.routes.filter(
          (route) => route.method !== 'GET' && route.access?.kind !== 'public',
        );
        for (const route of mutating) {
          const key = `${route.method} ${route.url}`;
          const call = table[key];
          assert.ok(call, `no audit case for ${key}: add one`);
          const response = await call(t);
          assert.ok(response.status < 300, `${key} answered ${response.status}`);
          const exported = await t.request<{ records: AuditRecord[] }>('GET', '/v1/audit/export');
          const system = await t.cp.context.audit.export('system');
          const all = [...exported.body.records, ...system.records];
          assert.ok(
            all.some((record) => record.requestId === response.requestId),
            `${key} left no audit record`,
          );
        }
      } finally {
        await t.close();
      }
    });

    test('when the audit record cannot be written the action is refused and nothing is made', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t);
        const before = await t.request<{ environments: Environment[] }>('GET', '/v1/environments');
        const db = t.cp.context.db;
        if (db.kind === 'sqlite') {
          await db.execute(
            `CREATE TRIGGER audit_fails BEFORE INSERT ON audit_records
             BEGIN SELECT RAISE(ABORT, 'audit storage is full'); END`,
          );
        } else {
          await db.execute(
            `CREATE FUNCTION audit_fails() RETURNS trigger AS $$
             BEGIN RAISE EXCEPTION 'audit storage is full'; END $$ LANGUAGE plpgsql`,
          );
          await db.execute(
            `CREATE TRIGGER audit_fails BEFORE INSERT ON audit_records
             FOR EACH ROW EXECUTE FUNCTION audit_fails()`,
          );
        }
        const create = await t.request('POST', '/v1/environments', { body: { name: 'never' } });
        assert.equal(create.status, 503);
        assert.equal(create.body.code, 'audit_unavailable');
        const runner = await t.request('POST', '/v1/runners', { body: { name: 'never' } });
        assert.equal(runner.status, 503);
        const after = await t.request<{ environments: Environment[] }>('GET', '/v1/environments');
        assert.equal(after.body.environments.length, before.body.environments.length);
        const runners = await t.request<{ runners: { name: string }[] }>('GET', '/v1/runners');
        assert.ok(!runners.body.runners.some((item) => item.name === 'never'));
      } finally {
        await t.close();
      }
    });
  });
}
