import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  publicKeyObject,
  verifyAccessToken,
  type AuditRecord,
  type DesiredEnvironment,
  type OrgPolicy,
  type PortShare,
  type ErrorBody,
} from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import type { ProtocolRunner } from '../testing/fake-runner.js';
import { runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

type Grant = { token: string; expiresAt: string; url: string; level: string };

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

/** The ports of the newest desired state the runner received for the environment. */
async function portsPushed(
  runner: ProtocolRunner,
  id: string,
  count: number,
): Promise<DesiredEnvironment> {
  const pushes = () =>
    runner.received.flatMap((m) =>
      m.type === 'environment' && m.environment.id === id ? [m.environment] : [],
    );
  await runner.waitFor(() => pushes().length >= count);
  const push = pushes()[count - 1];
  assert.ok(push);
  return push;
}

function share(t: TestControlPlane, id: string, port: number, level: string, token?: string) {
  return t.request<PortShare & ErrorBody>('PUT', `/v1/environments/${id}/ports/${port}`, {
    body: { level },
    ...(token ? { token } : {}),
  });
}

function grant(t: TestControlPlane, id: string, port: number, token?: string) {
  return t.request<Grant & ErrorBody>('POST', `/v1/environments/${id}/ports/${port}/access`, {
    ...(token ? { token } : {}),
  });
}

for (const backend of testBackends()) {
  describe(`port shares on ${backend.kind}`, () => {
    test('the owner shares a port; the runner gets it with the same generation; audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const before = await portsPushed(runner, environment.id, 1);
        assert.deepEqual(before.ports, []);

        const shared = await share(t, environment.id, 3000, 'org');
        assert.equal(shared.status, 200, JSON.stringify(shared.body));
        assert.equal(shared.body.level, 'org');
        assert.equal(shared.body.effectiveLevel, 'org');
        assert.equal(shared.body.updatedBy, t.owner.userId);
        const pushed = await portsPushed(runner, environment.id, 2);
        assert.deepEqual(pushed.ports, [{ port: 3000, level: 'org' }]);
        assert.equal(pushed.generation, before.generation, 'a share change keeps the generation');

        const same = await share(t, environment.id, 3000, 'org');
        assert.equal(same.status, 200);
        const unshared = await share(t, environment.id, 3000, 'private');
        assert.equal(unshared.body.level, 'private');
        const cleared = await portsPushed(runner, environment.id, 3);
        assert.deepEqual(cleared.ports, []);
        const pushes = runner.received.filter((m) => m.type === 'environment').length;
        assert.equal(pushes, 3, 'a repeated share pushes nothing');

        const records = await auditOf(t, 'environment.port.share');
        assert.deepEqual(
          records.map((r) => [r.details.port, r.details.oldLevel, r.details.newLevel]),
          [
            [3000, 'private', 'org'],
            [3000, 'org', 'org'],
            [3000, 'org', 'private'],
          ],
        );
        assert.equal(records[0]?.requestId, shared.requestId);

        await share(t, environment.id, 4000, 'org');
        runner.close();
        const welcome = await runner.connect();
        assert.equal(welcome.type, 'welcome');
        const listed = welcome.type === 'welcome' ? welcome.environments : [];
        assert.deepEqual(listed.find((e) => e.id === environment.id)?.ports, [
          { port: 4000, level: 'org' },
        ]);
      } finally {
        await t.close();
      }
    });

    test('only the owner shares; bad ports and levels are refused naming the field', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await runningEnvironment(t);
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const asAdmin = await share(t, environment.id, 3000, 'org', admin.token);
        assert.equal(asAdmin.status, 403);
        assert.match(asAdmin.body.message, /only the owner/);
        const asMember = await share(t, environment.id, 3000, 'org', member.token);
        assert.equal(asMember.status, 404, 'a member does not see the environment');
        for (const [port, level, field] of [
          [0, 'org', 'params.port'],
          [65536, 'org', 'params.port'],
          [3000, 'world', 'level'],
        ] as const) {
          const response = await share(t, environment.id, port, level);
          assert.equal(response.status, 400, `${port} ${level}`);
          assert.ok(
            response.body.fields?.some((item) => item.field === field),
            field,
          );
        }
        const extra = await t.request<ErrorBody>(
          'PUT',
          `/v1/environments/${environment.id}/ports/3000`,
          { body: { level: 'org', ttl: 5 } },
        );
        assert.equal(extra.status, 400);
        const egress = await share(t, environment.id, 3128, 'org');
        assert.equal(egress.status, 400);
        assert.match(egress.body.message, /egress proxy, which is never shared/);
        const opened = await grant(t, environment.id, 3128);
        assert.equal(opened.status, 400, 'no grant for the egress proxy port either');
      } finally {
        await t.close();
      }
    });

    test('grants follow the level: owner, member and outsider; URL and claims for one port', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const outsider = await addUser(t.cp.context, { role: 'owner' });
        const key = publicKeyObject(t.cp.context.signingKey.publicKeyRaw);

        const own = await grant(t, environment.id, 8080);
        assert.equal(own.status, 201, JSON.stringify(own.body));
        assert.equal(own.body.level, 'private');
        assert.equal(own.body.url, `http://127.0.0.1:1/ports/${environment.id}/8080/`);
        const claims = verifyAccessToken(own.body.token, key, { audience: runner.runnerId });
        assert.ok(claims.ok);
        assert.deepEqual(claims.claims.ops, ['ports:connect']);
        assert.equal(claims.claims.port, 8080);
        assert.equal(claims.claims.act.id, t.owner.userId);

        const memberPrivate = await grant(t, environment.id, 8080, member.token);
        assert.equal(memberPrivate.status, 404, 'a private port of another is not found');
        const adminPrivate = await grant(t, environment.id, 8080, admin.token);
        assert.equal(adminPrivate.status, 403);
        assert.match(adminPrivate.body.message, /private: only its owner/);

        await share(t, environment.id, 8080, 'org');
        const memberOrg = await grant(t, environment.id, 8080, member.token);
        assert.equal(memberOrg.status, 201);
        assert.equal(memberOrg.body.level, 'org');
        const memberClaims = verifyAccessToken(memberOrg.body.token, key, {
          audience: runner.runnerId,
        });
        assert.ok(memberClaims.ok);
        assert.equal(memberClaims.claims.act.id, member.userId);
        assert.equal(memberClaims.claims.port, 8080);
        const otherPort = await grant(t, environment.id, 8081, member.token);
        assert.equal(otherPort.status, 404, 'sharing one port shares no other');
        const stranger = await grant(t, environment.id, 8080, outsider.token);
        assert.equal(stranger.status, 404, 'an outsider gets nothing, and learns nothing');

        const records = await auditOf(t, 'environment.access');
        assert.deepEqual(
          records.map((r) => [r.actor.id, r.details.port, r.details.level]),
          [
            [t.owner.userId, 8080, 'private'],
            [member.userId, 8080, 'org'],
          ],
        );
        assert.doesNotMatch(JSON.stringify(records), /hat1\./);
        const denied = await auditOf(t, 'access.denied');
        assert.ok(denied.some((r) => r.actor.id === member.userId));
      } finally {
        await t.close();
      }
    });

    test('public needs the policy; lowering it downgrades shares and tells the runner', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner, environment } = await runningEnvironment(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const policy = await t.request<OrgPolicy>('GET', '/v1/org/policy');
        assert.deepEqual(policy.body, { maxPortShareLevel: 'org' });

        const refused = await share(t, environment.id, 5173, 'public');
        assert.equal(refused.status, 403);
        assert.match(refused.body.message, /organization policy maxPortShareLevel is org/);
        assert.ok(refused.body.fields?.some((item) => item.field === 'level'));

        const byMember = await t.request('PATCH', '/v1/org/policy', {
          token: member.token,
          body: { maxPortShareLevel: 'public' },
        });
        assert.equal(byMember.status, 403, 'members do not set the policy');
        const empty = await t.request('PATCH', '/v1/org/policy', { body: {} });
        assert.equal(empty.status, 400);
        const raised = await t.request<OrgPolicy>('PATCH', '/v1/org/policy', {
          body: { maxPortShareLevel: 'public' },
        });
        assert.equal(raised.status, 200);
        assert.equal(raised.body.maxPortShareLevel, 'public');
        assert.equal(raised.body.updatedBy, t.owner.userId);

        assert.equal((await share(t, environment.id, 5173, 'public')).status, 200);
        assert.equal((await share(t, environment.id, 3000, 'org')).status, 200);
        const both = await portsPushed(runner, environment.id, 3);
        assert.deepEqual(both.ports, [
          { port: 3000, level: 'org' },
          { port: 5173, level: 'public' },
        ]);
        const publicGrant = await grant(t, environment.id, 5173, member.token);
        assert.equal(publicGrant.body.level, 'public');

        const lowered = await t.request<OrgPolicy>('PATCH', '/v1/org/policy', {
          body: { maxPortShareLevel: 'private' },
        });
        assert.equal(lowered.status, 200);
        const closed = await portsPushed(runner, environment.id, 4);
        assert.deepEqual(closed.ports, []);
        assert.equal(closed.generation, both.generation);
        const memberNow = await grant(t, environment.id, 5173, member.token);
        assert.equal(memberNow.status, 404);

        await t.request('PATCH', '/v1/org/policy', { body: { maxPortShareLevel: 'public' } });
        const ownerGrant = await grant(t, environment.id, 5173);
        assert.equal(ownerGrant.body.level, 'private', 'raising the policy reopens nothing');

        const updates = await auditOf(t, 'org.policy.update');
        assert.deepEqual(
          updates.map((r) => [r.details.oldMaxPortShareLevel, r.details.newMaxPortShareLevel]),
          [
            ['org', 'public'],
            ['public', 'private'],
            ['private', 'public'],
          ],
        );
        assert.equal(updates[1]?.details.sharesLowered, 2);
        const shares = await auditOf(t, 'environment.port.share');
        const byPolicy = shares.filter((r) => r.details.reason === 'organization policy lowered');
        assert.deepEqual(
          byPolicy.map((r) => [r.details.port, r.details.oldLevel, r.details.newLevel]),
          [
            [3000, 'org', 'private'],
            [5173, 'public', 'private'],
          ],
        );
      } finally {
        await t.close();
      }
    });
  });
}
