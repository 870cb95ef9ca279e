import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord, Environment, ErrorBody } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { connectedRunner, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

const reason = 'incident 4711: the build agent of this environment leaks credentials';

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

/** A running environment that belongs to a new member (not to the test's owner). */
async function membersEnvironment(t: TestControlPlane) {
  const { runner } = await connectedRunner(t);
  const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
  const created = await t.request<Environment>('POST', '/v1/environments', {
    token: member.token,
    body: {},
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  runner.reportStatus(created.body.id, { phase: 'running' }, 1);
  await waitForPhase(t, created.body.id, 'running');
  return { runner, member, environment: created.body };
}

function open(t: TestControlPlane, id: string, options: { token?: string; reason?: string }) {
  return t.request<ErrorBody & { token?: string }>('POST', `/v1/environments/${id}/access`, {
    body: {
      operations: ['exec', 'files:read'],
      ...(options.reason === undefined ? {} : { breakGlassReason: options.reason }),
    },
    ...(options.token ? { token: options.token } : {}),
  });
}

async function setBreakGlass(t: TestControlPlane, on: boolean) {
  const changed = await t.request('PATCH', '/v1/org/policy', { body: { breakGlass: on } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
}

for (const backend of testBackends()) {
  describe(`break-glass access on ${backend.kind}`, () => {
    test('off by default: an admin with a reason is refused, naming the policy breakGlass', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await membersEnvironment(t);
        const noReason = await open(t, environment.id, {});
        assert.equal(noReason.status, 403, 'without a reason, as before: owners only');
        assert.match(noReason.body.message, /only the owner of this environment may open it/);

        const refused = await open(t, environment.id, { reason });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.equal(refused.body.code, 'forbidden');
        assert.match(refused.body.message, /policy breakGlass/);
        assert.equal(refused.body.fields?.[0]?.field, 'breakGlassReason');
        assert.equal((await auditOf(t, 'environment.break-glass')).length, 0);
        assert.equal((await auditOf(t, 'environment.access')).length, 0, 'no grant was given');

        await setBreakGlass(t, true);
        await setBreakGlass(t, false);
        const offAgain = await open(t, environment.id, { reason });
        assert.equal(offAgain.status, 403);
        assert.match(offAgain.body.message, /policy breakGlass/);
      } finally {
        await t.close();
      }
    });

    test('on: an admin with a reason gets a grant and a break-glass record beside the grant’s', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment, member } = await membersEnvironment(t);
        await setBreakGlass(t, true);
        const noReason = await open(t, environment.id, {});
        assert.equal(noReason.status, 403, 'the policy alone opens nothing: a reason is needed');

        const granted = await open(t, environment.id, { reason });
        assert.equal(granted.status, 201, JSON.stringify(granted.body));
        assert.ok(granted.body.token);
        const [record, ...more] = await auditOf(t, 'environment.break-glass');
        assert.equal(more.length, 0);
        assert.equal(record?.requestId, granted.requestId);
        assert.equal(record?.actor.id, t.owner.userId);
        assert.equal(record?.target?.id, environment.id);
        assert.equal(record?.details.reason, reason);
        assert.equal(record?.details.operations, 'exec files:read');
        assert.equal(record?.details.environmentOwner, member.userId);
        const access = (await auditOf(t, 'environment.access')).find(
          (entry) => entry.requestId === granted.requestId,
        );
        assert.equal(access?.details.breakGlass, true, 'the grant record says break-glass too');
        assert.ok(!JSON.stringify(record).includes(granted.body.token ?? '-'));

        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const asAdmin = await open(t, environment.id, { token: admin.token, reason });
        assert.equal(asAdmin.status, 201, 'an admin, not only an owner');

        const own = await open(t, environment.id, { token: member.token, reason });
        assert.equal(own.status, 201, "the environment's owner opens it as always");
        assert.equal((await auditOf(t, 'environment.break-glass')).length, 2, 'not for the owner');
      } finally {
        await t.close();
      }
    });

    test('a member, an auditor, another organization and a blank reason are refused as before', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { environment } = await membersEnvironment(t);
        await setBreakGlass(t, true);
        const orgId = t.owner.orgId;
        const other = await addUser(t.cp.context, { orgId, role: 'member' });
        const asMember = await open(t, environment.id, { token: other.token, reason });
        assert.equal(asMember.status, 404, 'a member who is not the owner sees nothing');
        assert.equal(asMember.body.code, 'not_found');
        const missing = await open(t, 'env_0000000000000000', { token: other.token, reason });
        assert.equal(
          missing.body.message.replace('env_0000000000000000', environment.id),
          asMember.body.message,
          'the same answer as for an environment that does not exist',
        );

        const auditor = await addUser(t.cp.context, { orgId, role: 'auditor' });
        const asAuditor = await open(t, environment.id, { token: auditor.token, reason });
        assert.equal(asAuditor.status, 403);
        assert.match(asAuditor.body.message, /role auditor may not/);

        const foreign = await addUser(t.cp.context, { role: 'owner' });
        const fromOutside = await open(t, environment.id, { token: foreign.token, reason });
        assert.equal(fromOutside.status, 404);

        const short = await open(t, environment.id, { reason: 'because' });
        assert.equal(short.status, 400);
        assert.equal(short.body.fields?.[0]?.field, 'breakGlassReason');
        const blank = await open(t, environment.id, { reason: ' '.repeat(12) });
        assert.equal(blank.status, 400);
        assert.match(blank.body.message, /^breakGlassReason must say/);

        const narrow = await addUser(t.cp.context, {
          orgId,
          role: 'admin',
          scopes: ['environments:read'],
        });
        const noExec = await open(t, environment.id, { token: narrow.token, reason });
        assert.equal(noExec.status, 403);
        assert.match(noExec.body.message, /lacks the scope environments:exec/);
        assert.equal((await auditOf(t, 'environment.break-glass')).length, 0);
      } finally {
        await t.close();
      }
    });
  });
}
