import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord, ServerMessage, SshKey } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { runningEnvironment } from '../testing/fixtures.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { keyMaker, type GeneratedKey } from '../testing/ssh-keygen.js';
import { addUser } from '../testing/users.js';

let keys: Awaited<ReturnType<typeof keyMaker>>;
let ed25519: GeneratedKey;
let rsa: GeneratedKey;
let small: GeneratedKey;

before(async () => {
  keys = await keyMaker();
  ed25519 = await keys.make('ed25519');
  rsa = await keys.make('rsa', 2048);
  small = await keys.make('rsa', 1024);
});

after(() => keys.remove());

type Fields = { code: string; message: string; fields?: { field: string }[] };

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

for (const backend of testBackends()) {
  describe(`SSH keys on ${backend.kind}`, () => {
    test('a key is stored as blob and fingerprint, listed, and audited without its comment', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const added = await t.request<SshKey>('POST', '/v1/ssh-keys', {
          body: { publicKey: `${ed25519.line}\n`, name: 'laptop' },
        });
        assert.equal(added.status, 201, JSON.stringify(added.body));
        assert.equal(added.body.fingerprint, ed25519.fingerprint);
        assert.equal(added.body.keyType, 'ssh-ed25519');
        assert.equal(added.body.bits, 256);
        assert.equal(added.body.name, 'laptop');
        assert.equal(added.body.userId, t.owner.userId);
        assert.equal(added.body.publicKey, `ssh-ed25519 ${ed25519.blob}`);
        const second = await t.request<SshKey>('POST', '/v1/ssh-keys', {
          body: { publicKey: rsa.line },
        });
        assert.equal(second.status, 201);
        assert.equal(second.body.bits, 2048);
        assert.equal(second.body.name, undefined);

        const listed = await t.request<{ sshKeys: SshKey[] }>('GET', '/v1/ssh-keys');
        assert.deepEqual(
          listed.body.sshKeys.map((key) => key.fingerprint),
          [ed25519.fingerprint, rsa.fingerprint],
        );
        const rows = await t.cp.context.db.query<{ public_key: string; fingerprint: string }>(
          'SELECT public_key, fingerprint FROM ssh_keys ORDER BY created_at, id',
        );
        assert.equal(rows[0]?.public_key, ed25519.blob);
        assert.equal(rows[0]?.fingerprint, ed25519.fingerprint);

        const records = await auditOf(t, 'ssh-key.add');
        assert.equal(records.length, 2);
        assert.equal(records[0]?.details.fingerprint, ed25519.fingerprint);
        assert.equal(records[0]?.requestId, added.requestId);
        const text = JSON.stringify(records);
        assert.doesNotMatch(text, /alice|laptop/, 'neither the comment nor the name');
        assert.ok(!text.includes(ed25519.blob), 'a fingerprint, not the key');
      } finally {
        await t.close();
      }
    });

    test('bad keys, duplicates and unknown fields are refused naming the field', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const cases: [unknown, string, RegExp][] = [
          [{ publicKey: small.line }, 'publicKey', /1024 bits; use at least 2048/],
          [{ publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5' }, 'publicKey', /publicKey/],
          [{ publicKey: `from="10.0.0.1" ${ed25519.line}` }, 'publicKey', /key type/],
          [{ publicKey: ed25519.line, name: 'two\nlines' }, 'name', /control characters/],
          [{ publicKey: ed25519.line, admin: true }, 'admin', /not a known field/],
          [{}, 'publicKey', /required/],
        ];
        for (const [body, field, pattern] of cases) {
          const response = await t.request<Fields>('POST', '/v1/ssh-keys', { body });
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.code, 'invalid_request');
          assert.ok(
            response.body.fields?.some((item) => item.field === field),
            field,
          );
          assert.match(response.body.message, pattern);
        }
        assert.equal(
          (await t.request('POST', '/v1/ssh-keys', { body: { publicKey: ed25519.line } })).status,
          201,
        );
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const duplicate = await t.request<Fields>('POST', '/v1/ssh-keys', {
          token: member.token,
          body: { publicKey: ed25519.line },
        });
        assert.equal(duplicate.status, 409);
        assert.match(duplicate.body.message, /already registered in this organization/);
        const elsewhere = await addUser(t.cp.context, { role: 'owner' });
        const otherOrg = await t.request('POST', '/v1/ssh-keys', {
          token: elsewhere.token,
          body: { publicKey: ed25519.line },
        });
        assert.equal(otherOrg.status, 201, 'another organization is another key space');
        const reader = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'member',
          scopes: ['environments:read'],
        });
        const readOnly = await t.request('POST', '/v1/ssh-keys', {
          token: reader.token,
          body: { publicKey: rsa.line },
        });
        assert.equal(readOnly.status, 403, 'a key opens shells: a read-only token may not add one');
      } finally {
        await t.close();
      }
    });

    test('removing a key is audited and ends its owner sessions on the runners concerned', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await runningEnvironment(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const memberEnvironment = await t.request('POST', '/v1/environments', {
          token: member.token,
          body: {},
        });
        assert.equal(memberEnvironment.status, 201);
        const added = await t.request<SshKey>('POST', '/v1/ssh-keys', {
          body: { publicKey: ed25519.line },
        });
        const theirs = await t.request<SshKey>('POST', '/v1/ssh-keys', {
          token: member.token,
          body: { publicKey: rsa.line },
        });
        const notYours = await t.request('DELETE', `/v1/ssh-keys/${added.body.id}`, {
          token: member.token,
        });
        assert.equal(notYours.status, 404, "another member's key is not found");
        const memberList = await t.request<{ sshKeys: SshKey[] }>('GET', '/v1/ssh-keys', {
          token: member.token,
        });
        assert.deepEqual(
          memberList.body.sshKeys.map((key) => key.id),
          [theirs.body.id],
        );
        const peek = await t.request('GET', `/v1/ssh-keys?userId=${t.owner.userId}`, {
          token: member.token,
        });
        assert.equal(peek.status, 403);

        const removed = await t.request<SshKey>('DELETE', `/v1/ssh-keys/${added.body.id}`);
        assert.equal(removed.status, 200);
        assert.equal(removed.body.fingerprint, ed25519.fingerprint);
        const revoke = await runner.waitFor((m) => m.type === 'revoke');
        assert.deepEqual(
          { ...revoke, reason: undefined },
          { type: 'revoke', actorId: t.owner.userId, reason: undefined },
        );
        assert.match((revoke as ServerMessage & { type: 'revoke' }).reason, /SHA256:/);
        const again = await t.request('DELETE', `/v1/ssh-keys/${added.body.id}`);
        assert.equal(again.status, 404);
        const records = await auditOf(t, 'ssh-key.remove');
        assert.equal(records.length, 1);
        assert.equal(records[0]?.details.fingerprint, ed25519.fingerprint);
        assert.equal(records[0]?.requestId, removed.requestId);

        const asAdmin = await t.request('DELETE', `/v1/ssh-keys/${theirs.body.id}`);
        assert.equal(asAdmin.status, 200, "an admin may remove a member's key");
        const memberRevoke = await runner.waitFor(
          (m) => m.type === 'revoke' && m.actorId === member.userId,
        );
        assert.equal(memberRevoke.type, 'revoke');
      } finally {
        await t.close();
      }
    });
  });
}
