import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scopes, type AuditRecord, type ErrorBody, type OrgPolicy } from '@hangar/api';
import { policyOf } from '../services/policy-store.js';
import { testBackends } from '../storage/testing.js';
import { connectedRunner } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

function patch(t: TestControlPlane, body: unknown, token?: string) {
  return t.request<OrgPolicy & ErrorBody>('PATCH', '/v1/org/policy', {
    body,
    ...(token ? { token } : {}),
  });
}

/** The policy without who changed it when. */
function withoutStamp(policy: OrgPolicy): Partial<OrgPolicy> {
  const copy: Partial<OrgPolicy> = { ...policy };
  delete copy.updatedAt;
  delete copy.updatedBy;
  return copy;
}

async function updates(t: TestControlPlane): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>(
    'GET',
    '/v1/audit?action=org.policy.update',
  );
  return page.body.records;
}

const everyRule = {
  allowedRepositoryPatterns: ['https://git.example.test/acme/*'],
  allowedClasses: ['small'],
  maxRunningPerUser: 2,
  maxRunningPerOrg: 10,
  idleStopAfterMin: 30,
  maxLifetimeMin: 480,
  breakGlass: true,
  projects: [
    { name: 'web', repositoryPatterns: ['https://git.example.test/acme/web-*'], runners: ['r1'] },
  ],
};

for (const backend of testBackends()) {
  describe(`organization policy changes on ${backend.kind}`, () => {
    test('every rule is set, shown, audited with old and new values, and cleared', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'r1');
        const set = await patch(t, everyRule);
        assert.equal(set.status, 200, JSON.stringify(set.body));
        const { updatedAt, ...shown } = set.body;
        assert.ok(updatedAt);
        assert.deepEqual(shown, {
          maxPortShareLevel: 'org',
          ...everyRule,
          updatedBy: t.owner.userId,
        });
        const read = await t.request<OrgPolicy>('GET', '/v1/org/policy');
        assert.deepEqual(read.body, set.body);
        const stored = await policyOf(t.cp.context.db, t.owner.orgId);
        assert.equal(stored.breakGlass, true, 'policyOf gives the members check breakGlass');

        const [first] = await updates(t);
        assert.equal(first?.requestId, set.requestId);
        assert.deepEqual(first?.details, {
          changed:
            'allowedRepositoryPatterns,allowedClasses,maxRunningPerUser,maxRunningPerOrg,' +
            'idleStopAfterMin,maxLifetimeMin,breakGlass,projects',
          oldAllowedRepositoryPatterns: null,
          newAllowedRepositoryPatterns: JSON.stringify(everyRule.allowedRepositoryPatterns),
          oldAllowedClasses: null,
          newAllowedClasses: '["small"]',
          oldMaxRunningPerUser: null,
          newMaxRunningPerUser: 2,
          oldMaxRunningPerOrg: null,
          newMaxRunningPerOrg: 10,
          oldIdleStopAfterMin: null,
          newIdleStopAfterMin: 30,
          oldMaxLifetimeMin: null,
          newMaxLifetimeMin: 480,
          oldBreakGlass: false,
          newBreakGlass: true,
          oldProjects: null,
          newProjects: JSON.stringify(everyRule.projects),
        });

        const changed = await patch(t, {
          maxRunningPerUser: 3,
          allowedClasses: ['small', 'large'],
          idleStopAfterMin: 30,
        });
        assert.equal(changed.status, 200);
        assert.equal(changed.body.maxRunningPerUser, 3);
        assert.equal(changed.body.maxLifetimeMin, 480, 'rules left out stay as they were');
        const second = (await updates(t))[1];
        assert.deepEqual(second?.details, {
          changed: 'allowedClasses,maxRunningPerUser',
          oldAllowedClasses: '["small"]',
          newAllowedClasses: '["small","large"]',
          oldMaxRunningPerUser: 2,
          newMaxRunningPerUser: 3,
        });

        const cleared = await patch(t, {
          allowedRepositoryPatterns: null,
          allowedClasses: [],
          maxRunningPerUser: null,
          maxRunningPerOrg: null,
          idleStopAfterMin: null,
          maxLifetimeMin: null,
          breakGlass: null,
          projects: null,
          maxPortShareLevel: 'private',
        });
        assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
        assert.deepEqual(withoutStamp(cleared.body), { maxPortShareLevel: 'private' });
        const third = (await updates(t))[2];
        assert.equal(third?.details.newMaxRunningPerUser, null);
        assert.equal(third?.details.oldMaxRunningPerUser, 3);
        assert.equal(third?.details.newBreakGlass, false);
        assert.equal(third?.details.oldMaxPortShareLevel, 'org');
        assert.equal(third?.details.newMaxPortShareLevel, 'private');
        assert.equal(third?.details.sharesLowered, 0);

        const level = await patch(t, { maxPortShareLevel: null, breakGlass: false });
        assert.equal(level.body.maxPortShareLevel, 'org', 'null is the default level again');
        assert.equal(level.body.breakGlass, undefined, 'false is stored as off');
        const same = await patch(t, { breakGlass: false, maxRunningPerOrg: null });
        assert.equal(same.status, 200);
        assert.deepEqual((await updates(t)).at(-1)?.details, { changed: 'none' });
      } finally {
        await t.close();
      }
    });

    test('owners and admins with org:admin only; an empty change is refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const narrow = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'owner',
          scopes: scopes.filter((scope) => scope !== 'org:admin'),
        });
        const byAdmin = await patch(t, { maxRunningPerOrg: 5 }, admin.token);
        assert.equal(byAdmin.status, 200);
        assert.equal(byAdmin.body.updatedBy, admin.userId);
        const breakGlassByAdmin = await patch(t, { breakGlass: true }, admin.token);
        assert.equal(breakGlassByAdmin.status, 403, 'only owners turn break-glass on');
        assert.equal(breakGlassByAdmin.body.policy, 'breakGlass');
        assert.equal((await policyOf(t.cp.context.db, t.owner.orgId)).breakGlass, undefined);
        const byMember = await patch(t, { maxRunningPerOrg: 50 }, member.token);
        assert.equal(byMember.status, 403);
        const byNarrow = await patch(t, { maxRunningPerOrg: 50 }, narrow.token);
        assert.equal(byNarrow.status, 403);
        assert.match(byNarrow.body.message, /lacks the scope org:admin/);
        const empty = await patch(t, {});
        assert.equal(empty.status, 400);
        assert.match(empty.body.message, /changes nothing/);
        assert.equal((await policyOf(t.cp.context.db, t.owner.orgId)).maxRunningPerOrg, 5);
        assert.equal((await updates(t)).length, 1);
      } finally {
        await t.close();
      }
    });

    test('bad rules are refused naming the field, and nothing is stored', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'r1');
        const project = (extra: object) => ({
          name: 'web',
          repositoryPatterns: ['https://git.example.test/*'],
          runners: [],
          ...extra,
        });
        const cases: [unknown, string][] = [
          [{ allowedRepositoryPatterns: ['git.example.test/*'] }, 'allowedRepositoryPatterns.0'],
          [
            { allowedRepositoryPatterns: ['https://git.example.test/*', 'https://a b'] },
            'allowedRepositoryPatterns.1',
          ],
          [{ allowedRepositoryPatterns: [''] }, 'allowedRepositoryPatterns.0'],
          [{ allowedClasses: ['Large'] }, 'allowedClasses.0'],
          [{ maxRunningPerUser: -1 }, 'maxRunningPerUser'],
          [{ maxRunningPerOrg: 1.5 }, 'maxRunningPerOrg'],
          [{ idleStopAfterMin: 0 }, 'idleStopAfterMin'],
          [{ maxLifetimeMin: 525601 }, 'maxLifetimeMin'],
          [{ breakGlass: 'yes' }, 'breakGlass'],
          [{ maxPortShareLevel: 'world' }, 'maxPortShareLevel'],
          [{ projects: [project({}), project({})] }, 'projects.1.name'],
          [{ projects: [project({ runners: ['r1', 'ghost'] })] }, 'projects.0.runners.1'],
          [{ projects: [project({ repositoryPatterns: [] })] }, 'projects.0.repositoryPatterns'],
          [{ projects: [project({ name: 'Web' })] }, 'projects.0.name'],
          [{ projects: [project({ owner: 'me' })] }, 'projects.0.owner'],
          [{ maxIdle: 3 }, 'maxIdle'],
        ];
        for (const [body, field] of cases) {
          const response = await patch(t, body);
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.ok(
            response.body.fields?.some((item) => item.field === field),
            `${JSON.stringify(body)} -> ${JSON.stringify(response.body.fields)}`,
          );
        }
        const ghost = await patch(t, { projects: [project({ runners: ['ghost'] })] });
        assert.match(ghost.body.message, /names no runner of the organization \(ghost\)/);
        const policy = await t.request<OrgPolicy>('GET', '/v1/org/policy');
        assert.deepEqual(policy.body, { maxPortShareLevel: 'org' });
        assert.equal((await updates(t)).length, 0);
      } finally {
        await t.close();
      }
    });
  });
}
