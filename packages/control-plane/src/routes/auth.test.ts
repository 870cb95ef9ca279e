import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Environment } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

for (const backend of testBackends()) {
  describe(`authentication and access on ${backend.kind}`, () => {
    test('an expired token is refused with token_expired and the failure is audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const user = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        await t.cp.context.db.execute('UPDATE api_tokens SET expires_at = ? WHERE id = ?', [
          Date.now() - 1000,
          user.tokenId,
        ]);
        const response = await t.request('GET', '/v1/environments', { token: user.token });
        assert.equal(response.status, 401);
        assert.equal(response.body.code, 'token_expired');
        assert.equal(typeof response.body.requestId, 'string');
        const audit = await t.request<{ records: { actor: { id: string }; outcome: string }[] }>(
          'GET',
          '/v1/audit?action=auth.failure',
        );
        assert.ok(
          audit.body.records.some((r) => r.actor.id === user.userId && r.outcome === 'denied'),
        );
      } finally {
        await t.close();
      }
    });

    test('a garbled or unknown token is refused and reveals nothing', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const last = t.owner.token.slice(-1);
        const altered = `${t.owner.token.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
        for (const token of ['nonsense', `${t.owner.token}x`, altered]) {
          const response = await t.request('GET', '/v1/environments', { token });
          assert.equal(response.status, 401);
          assert.equal(response.body.code, 'unauthenticated');
        }
      } finally {
        await t.close();
      }
    });

    test('a token lacking the scope is refused, and a new token cannot widen scopes', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const reader = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'owner',
          scopes: ['environments:read'],
        });
        const create = await t.request('POST', '/v1/environments', {
          token: reader.token,
          body: {},
        });
        assert.equal(create.status, 403);
        assert.match(String(create.body.message), /environments:write/);
        const widen = await t.request('POST', '/v1/tokens', {
          token: reader.token,
          body: { scopes: ['audit:read'], expiresInS: 3600 },
        });
        assert.equal(widen.status, 403);
        const narrow = await t.request<{ token: string }>('POST', '/v1/tokens', {
          token: reader.token,
          body: { scopes: ['environments:read'], expiresInS: 1800 },
        });
        assert.equal(narrow.status, 201);
        const outlive = await t.request('POST', '/v1/tokens', {
          token: reader.token,
          body: { scopes: ['environments:read'], expiresInS: 7200 },
        });
        assert.equal(outlive.status, 403, 'a token cannot outlive its parent');
        const who = await t.request('GET', '/v1/whoami', { token: narrow.body.token });
        assert.deepEqual(who.body.scopes, ['environments:read']);
        const denied = await t.request<{ records: unknown[] }>(
          'GET',
          '/v1/audit?action=access.denied',
        );
        assert.ok(denied.body.records.length >= 1);
      } finally {
        await t.close();
      }
    });

    test('another organization sees none of it: 404, not 403', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const stranger = await addUser(t.cp.context, { role: 'owner' });
        const id = environment.id;
        const attempts: [string, string, unknown?][] = [
          ['GET', `/v1/environments/${id}`],
          ['POST', `/v1/environments/${id}/stop`],
          ['POST', `/v1/environments/${id}/start`],
          ['DELETE', `/v1/environments/${id}`],
          ['POST', `/v1/environments/${id}/access`, { operations: ['exec'] }],
          ['GET', `/v1/runners/${runner.runnerId}`],
        ];
        for (const [method, path, body] of attempts) {
          const response = await t.request(method, path, { token: stranger.token, body });
          assert.equal(response.status, 404, `${method} ${path}`);
          assert.doesNotMatch(JSON.stringify(response.body), new RegExp(environment.name));
        }
        const list = await t.request<{ environments: Environment[] }>('GET', '/v1/environments', {
          token: stranger.token,
        });
        assert.equal(list.body.environments.length, 0);
        const audit = await t.request<{ records: { orgId: string; action: string }[] }>(
          'GET',
          '/v1/audit',
          { token: stranger.token },
        );
        assert.ok(audit.body.records.every((r) => r.orgId === stranger.orgId));
        const probes = audit.body.records.filter((r) => r.action === 'access.denied');
        assert.equal(probes.length, attempts.length, 'every probe of a hidden resource is audited');
      } finally {
        await t.close();
      }
    });

    test('a member may not open or change another member environment', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        for (const [method, path, body] of [
          ['GET', `/v1/environments/${environment.id}`, undefined],
          ['POST', `/v1/environments/${environment.id}/stop`, undefined],
          ['POST', `/v1/environments/${environment.id}/access`, { operations: ['exec'] }],
        ] as const) {
          const response = await t.request(method, path, { token: member.token, body });
          assert.equal(response.status, 404, `${method} ${path}`);
        }
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const open = await t.request('POST', `/v1/environments/${environment.id}/access`, {
          token: admin.token,
          body: { operations: ['exec'] },
        });
        assert.equal(open.status, 403, 'an admin may not open it');
        const stop = await t.request('POST', `/v1/environments/${environment.id}/stop`, {
          token: admin.token,
        });
        assert.equal(stop.status, 202, 'an admin may stop it');
        const auditor = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'auditor' });
        const create = await t.request('POST', '/v1/environments', {
          token: auditor.token,
          body: {},
        });
        assert.equal(create.status, 403);
        const read = await t.request('GET', '/v1/audit', { token: auditor.token });
        assert.equal(read.status, 200);
        const memberAudit = await t.request('GET', '/v1/audit', { token: member.token });
        assert.equal(memberAudit.status, 403);
      } finally {
        await t.close();
      }
    });
  });
}
