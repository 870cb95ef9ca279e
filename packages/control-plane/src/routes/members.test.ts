import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord, Environment, ErrorBody, Member, ServerMessage } from '@hangar/api';
import type { UserPrincipal } from '../http/principal.js';
import { setMemberRole } from '../services/members.js';
import { testBackends } from '../storage/testing.js';
import { connectedRunner, waitForPhase } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { keyMaker, type GeneratedKey } from '../testing/ssh-keygen.js';
import { addUser } from '../testing/users.js';

const issuer = 'https://id.example.test';

let keys: Awaited<ReturnType<typeof keyMaker>>;
let memberKey: GeneratedKey;

before(async () => {
  keys = await keyMaker();
  memberKey = await keys.make('ed25519');
});

after(() => keys.remove());

async function auditOf(t: TestControlPlane, action: string, token?: string) {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`, {
    ...(token ? { token } : {}),
  });
  return page.body.records;
}

async function add(t: TestControlPlane, subject: string, role: string, token?: string) {
  return t.request<Member & ErrorBody>('POST', '/v1/members', {
    body: { issuer, subject, role },
    ...(token ? { token } : {}),
  });
}

function setRole(t: TestControlPlane, id: string, role: string, token?: string) {
  return t.request<Member & ErrorBody>('PATCH', `/v1/members/${id}`, {
    body: { role },
    ...(token ? { token } : {}),
  });
}

function refusedWith(
  response: { status: number; body: ErrorBody },
  status: number,
  pattern: RegExp,
) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.match(response.body.message, pattern);
}

for (const backend of testBackends()) {
  describe(`members on ${backend.kind}`, () => {
    test('once the organization has a provider, members are added under its issuer only', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await t.cp.context.db.execute(
          `INSERT INTO oidc_configs (org_id, issuer, client_id, allowed_domains, store_profile,
             default_role, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          [t.owner.orgId, issuer, 'hangar', '[]', 0, 'member', t.owner.userId, Date.now()],
        );
        const other = await t.request<ErrorBody>('POST', '/v1/members', {
          body: { issuer: `${issuer}/`, subject: 'carol', role: 'admin' },
        });
        assert.equal(other.status, 400, JSON.stringify(other.body));
        assert.match(other.body.message, /signs in with the issuer/);
        assert.equal((await add(t, 'carol', 'admin')).status, 201);
      } finally {
        await t.close();
      }
    });

    test('add pre-creates the user by issuer and subject; bad input and duplicates are refused', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const added = await add(t, 'alice-123', 'member');
        assert.equal(added.status, 201, JSON.stringify(added.body));
        assert.equal(added.body.role, 'member');
        assert.equal(added.body.externalKey, `oidc:${issuer}#alice-123`);
        assert.equal(added.body.removedAt, undefined);
        const rows = await t.cp.context.db.query<{ org_id: string; role: string }>(
          'SELECT org_id, role FROM users WHERE external_key = ?',
          [`oidc:${t.owner.orgId}:${issuer}#alice-123`],
        );
        assert.deepEqual(rows, [{ org_id: t.owner.orgId, role: 'member' }]);

        const listed = await t.request<{ members: Member[] }>('GET', '/v1/members');
        assert.equal(listed.status, 200);
        assert.deepEqual(
          listed.body.members.map((member) => member.id),
          [t.owner.userId, added.body.id],
        );
        const [record, ...others] = await auditOf(t, 'member.add');
        assert.equal(others.length, 0);
        assert.equal(record?.target?.id, added.body.id);
        assert.equal(record?.actor.id, t.owner.userId);
        assert.equal(record?.details.role, 'member');
        assert.equal(record?.requestId, added.requestId);

        refusedWith(await add(t, 'alice-123', 'admin'), 409, /already/);
        // Another organization has users of its own: the same person is a new one there.
        const elsewhere = await addUser(t.cp.context, { role: 'owner' });
        assert.equal((await add(t, 'alice-123', 'member', elsewhere.token)).status, 201);

        const badRole = await add(t, 'bob', 'superuser');
        assert.equal(badRole.status, 400);
        assert.ok(badRole.body.fields?.some((field) => field.field === 'role'));
        for (const bad of ['not a url', 'http://id.example.test', `${issuer}/?tenant=1`]) {
          const response = await t.request<ErrorBody>('POST', '/v1/members', {
            body: { issuer: bad, subject: 'bob', role: 'member' },
          });
          refusedWith(response, 400, /^issuer /);
          assert.deepEqual(response.body.fields?.[0]?.field, 'issuer');
        }
        const control = await t.request<ErrorBody>('POST', '/v1/members', {
          body: { issuer, subject: 'bob\nadmin', role: 'member' },
        });
        refusedWith(control, 400, /^subject must not hold control characters/);
        const unknown = await t.request<ErrorBody>('POST', '/v1/members', {
          body: { issuer, subject: 'bob', role: 'member', email: 'bob@example.test' },
        });
        assert.equal(unknown.status, 400, 'unknown fields are refused');

        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const asAdmin = await add(t, 'carol', 'owner', admin.token);
        refusedWith(asAdmin, 403, /only an owner may make someone an owner/);
        assert.equal((await add(t, 'carol', 'admin', admin.token)).status, 201);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        refusedWith(await add(t, 'dave', 'member', member.token), 403, /role member may not/);
        assert.equal((await auditOf(t, 'member.add')).length, 2, 'refusals add no member');
      } finally {
        await t.close();
      }
    });

    test('set-role: changes are audited with old and new; every rule refuses clearly', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const orgId = t.owner.orgId;
        const admin = await addUser(t.cp.context, { orgId, role: 'admin' });
        const member = await addUser(t.cp.context, { orgId, role: 'member' });
        const changed = await setRole(t, member.userId, 'auditor');
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        assert.equal(changed.body.role, 'auditor');
        const whoami = await t.request<{ role: string }>('GET', '/v1/whoami', {
          token: member.token,
        });
        assert.equal(whoami.body.role, 'auditor', 'the next request already has the new role');
        const [record] = await auditOf(t, 'member.role.update');
        assert.deepEqual(
          [record?.target?.id, record?.details.old, record?.details.new],
          [member.userId, 'member', 'auditor'],
        );

        refusedWith(await setRole(t, member.userId, 'owner', admin.token), 403, /only an owner/);
        refusedWith(await setRole(t, t.owner.userId, 'admin', admin.token), 403, /only an owner/);
        refusedWith(await setRole(t, t.owner.userId, 'admin'), 403, /cannot change the role of/);
        refusedWith(await setRole(t, admin.userId, 'member', admin.token), 403, /yourself/);
        const auditor = await setRole(t, admin.userId, 'member', member.token);
        refusedWith(auditor, 403, /role auditor may not/);
        const badRole = await setRole(t, member.userId, 'root');
        assert.equal(badRole.status, 400);
        assert.ok(badRole.body.fields?.some((field) => field.field === 'role'));

        const foreign = await addUser(t.cp.context, { role: 'member' });
        const notFound = await setRole(t, foreign.userId, 'admin');
        assert.equal(notFound.status, 404);
        assert.equal(notFound.body.code, 'not_found');
        const missing = await setRole(t, 'usr_0000000000000000', 'admin');
        assert.equal(
          missing.body.message.replace('usr_0000000000000000', foreign.userId),
          notFound.body.message,
        );

        const promoted = await setRole(t, admin.userId, 'owner');
        assert.equal(promoted.status, 200);
        const demoted = await setRole(t, t.owner.userId, 'member', admin.token);
        assert.equal(demoted.status, 200, 'another owner may demote an owner');
        const records = await auditOf(t, 'member.role.update', admin.token);
        assert.equal(records.length, 3);
      } finally {
        await t.close();
      }
    });

    test('the last owner is never demoted, even by a principal that read an older role', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const admin = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'admin' });
        const stale: UserPrincipal = {
          kind: 'user',
          userId: admin.userId,
          orgId: t.owner.orgId,
          role: 'owner',
          scopes: ['org:admin'],
          tokenId: admin.tokenId,
          tokenExpiresAt: Date.now() + 60_000,
        };
        const meta = { requestId: 'req_test', sourceAddress: '127.0.0.1' };
        await assert.rejects(setMemberRole(t.cp.context, stale, t.owner.userId, 'admin', meta), {
          code: 'conflict',
          message: new RegExp(`member ${t.owner.userId} is the last owner .* make another`),
        });
        const owner = await t.request<{ role: string }>('GET', '/v1/whoami');
        assert.equal(owner.body.role, 'owner');
      } finally {
        await t.close();
      }
    });

    test('remove ends every way in: tokens, SSH keys, live sessions; environments stop', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const orgId = t.owner.orgId;
        const { runner } = await connectedRunner(t);
        const member = await addUser(t.cp.context, { orgId, role: 'member' });
        const second = await t.request<{ token: string }>('POST', '/v1/tokens', {
          token: member.token,
          body: { scopes: ['environments:read'], expiresInS: 600 },
        });
        assert.equal(second.status, 201);
        const key = await t.request<{ id: string }>('POST', '/v1/ssh-keys', {
          token: member.token,
          body: { publicKey: memberKey.line },
        });
        assert.equal(key.status, 201, JSON.stringify(key.body));
        const created = await t.request<Environment>('POST', '/v1/environments', {
          token: member.token,
          body: {},
        });
        assert.equal(created.status, 201);
        const envId = created.body.id;
        runner.reportStatus(envId, { phase: 'running' }, 1);
        await waitForPhase(t, envId, 'running');
        const before = await runner.authorizeSsh({ username: envId, publicKey: memberKey.blob });
        assert.equal(before.ok, true, 'the key opens the environment before the removal');

        const removed = await t.request<Member>('DELETE', `/v1/members/${member.userId}`);
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
        assert.ok(removed.body.removedAt);

        for (const token of [member.token, second.body.token]) {
          const refused = await t.request<ErrorBody>('GET', '/v1/whoami', { token });
          assert.equal(refused.status, 401);
          assert.match(refused.body.message, /removed from the organization/);
          const failure = (await auditOf(t, 'auth.failure')).find(
            (record) => record.requestId === refused.requestId,
          );
          assert.equal(failure?.details.reason, 'user removed');
          assert.equal(failure?.actor.id, member.userId);
        }
        const tokens = await t.cp.context.db.query<{ revoked_at: number | null }>(
          'SELECT revoked_at FROM api_tokens WHERE user_id = ?',
          [member.userId],
        );
        assert.equal(tokens.length, 2);
        assert.ok(
          tokens.every((row) => row.revoked_at !== null),
          'every token revoked',
        );

        const sshKeys = await t.cp.context.db.query('SELECT id FROM ssh_keys WHERE user_id = ?', [
          member.userId,
        ]);
        assert.equal(sshKeys.length, 0, 'the SSH key is gone');
        const afterSsh = await runner.authorizeSsh({ username: envId, publicKey: memberKey.blob });
        assert.equal(afterSsh.ok, false);
        const revoke = await runner.waitFor<ServerMessage & { type: 'revoke' }>(
          (message) => message.type === 'revoke' && message.actorId === member.userId,
        );
        assert.match(revoke.reason, /removed|SSH key/);

        const stopped = await t.request<Environment>('GET', `/v1/environments/${envId}`);
        assert.equal(stopped.body.spec.desiredPhase, 'stopped');
        await runner.waitFor(
          (message) =>
            message.type === 'environment' &&
            message.environment.id === envId &&
            message.environment.spec.desiredPhase === 'stopped',
        );

        const [record, ...more] = await auditOf(t, 'member.remove');
        assert.equal(more.length, 0);
        assert.equal(record?.actor.id, t.owner.userId);
        assert.equal(record?.target?.id, member.userId);
        assert.equal(record?.requestId, removed.requestId);
        assert.deepEqual(
          [
            record?.details.tokensRevoked,
            record?.details.sshKeys,
            record?.details.environmentsStopped,
          ],
          [2, 1, 1],
        );
        const stop = (await auditOf(t, 'environment.stop')).find(
          (entry) => entry.target?.id === envId,
        );
        assert.equal(stop?.actor.id, t.owner.userId, 'the stop is the admin’s');
        assert.equal(stop?.requestId, removed.requestId);
        const keyRecord = (await auditOf(t, 'ssh-key.remove'))[0];
        assert.equal(keyRecord?.target?.id, key.body.id);

        const listed = await t.request<{ members: Member[] }>('GET', '/v1/members');
        const shown = listed.body.members.find((entry) => entry.id === member.userId);
        assert.equal(shown?.removedAt, removed.body.removedAt, 'the row is kept, marked removed');
      } finally {
        await t.close();
      }
    });

    test('remove refuses yourself, owners for admins, other organizations, and twice', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const orgId = t.owner.orgId;
        const admin = await addUser(t.cp.context, { orgId, role: 'admin' });
        const remove = (id: string, token?: string) =>
          t.request<Member & ErrorBody>('DELETE', `/v1/members/${id}`, token ? { token } : {});
        refusedWith(await remove(t.owner.userId), 403, /cannot remove yourself/);
        refusedWith(await remove(t.owner.userId, admin.token), 403, /only an owner/);
        const foreign = await addUser(t.cp.context, { role: 'member' });
        const other = await remove(foreign.userId);
        assert.equal(other.status, 404);
        assert.equal(other.body.code, 'not_found');
        const foreignWhoami = await t.request('GET', '/v1/whoami', { token: foreign.token });
        assert.equal(foreignWhoami.status, 200, 'nothing happened to the other organization');

        const added = await add(t, 'erin', 'member');
        assert.equal((await remove(added.body.id, admin.token)).status, 200);
        refusedWith(await remove(added.body.id), 409, /was removed at .* add them again/);
        refusedWith(await setRole(t, added.body.id, 'admin'), 409, /was removed at/);

        const again = await add(t, 'erin', 'auditor');
        assert.equal(again.status, 200, 'a removed member is added again');
        assert.equal(again.body.id, added.body.id);
        assert.equal(again.body.role, 'auditor');
        assert.equal(again.body.removedAt, undefined);
        const readded = (await auditOf(t, 'member.add')).at(-1);
        assert.equal(readded?.details.readded, true);
      } finally {
        await t.close();
      }
    });

    test('only owners and admins list members; auditors read the audit log and nothing else', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const orgId = t.owner.orgId;
        const listed = await t.request<{ members: Member[] }>('GET', '/v1/members');
        assert.equal(listed.status, 200);
        assert.equal(listed.body.members.length, 1);
        const auditor = await addUser(t.cp.context, { orgId, role: 'auditor' });
        refusedWith(await add(t, 'frank', 'member', auditor.token), 403, /role auditor/);
        for (const role of ['auditor', 'member', 'runner-admin'] as const) {
          const user = await addUser(t.cp.context, { orgId, role });
          const refused = await t.request<ErrorBody>('GET', '/v1/members', { token: user.token });
          refusedWith(refused, 403, new RegExp(`role ${role} may not`));
        }
        const narrow = await addUser(t.cp.context, {
          orgId,
          role: 'admin',
          scopes: ['environments:read'],
        });
        const noScope = await t.request<ErrorBody>('GET', '/v1/members', { token: narrow.token });
        refusedWith(noScope, 403, /lacks the scope org:admin/);
      } finally {
        await t.close();
      }
    });
  });
}
