import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fingerprint, generateEd25519, type AuditRecord, type SigningKey } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

type Fields = { code: string; message: string; fields?: { field: string }[] };

for (const backend of testBackends()) {
  describe(`signing keys on ${backend.kind}`, () => {
    test('a key is added, listed, revoked once, and both are audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const keys = generateEd25519();
        const added = await t.request<SigningKey>('POST', '/v1/signing-keys', {
          body: { publicKey: keys.publicKey },
        });
        assert.equal(added.status, 201, JSON.stringify(added.body));
        assert.equal(added.body.userId, t.owner.userId);
        assert.equal(added.body.fingerprint, fingerprint(keys.publicKey));
        assert.equal(added.body.revokedAt, undefined);

        const listed = await t.request<{ signingKeys: SigningKey[] }>('GET', '/v1/signing-keys');
        assert.deepEqual(
          listed.body.signingKeys.map((key) => key.id),
          [added.body.id],
        );

        const revoked = await t.request<SigningKey>('DELETE', `/v1/signing-keys/${added.body.id}`);
        assert.equal(revoked.status, 200);
        assert.ok(revoked.body.revokedAt);
        const again = await t.request<SigningKey>('DELETE', `/v1/signing-keys/${added.body.id}`);
        assert.equal(again.body.revokedAt, revoked.body.revokedAt);

        const readded = await t.request<Fields>('POST', '/v1/signing-keys', {
          body: { publicKey: keys.publicKey },
        });
        assert.equal(readded.status, 409, 'a revoked key never comes back');
        assert.equal(readded.body.fields?.[0]?.field, 'publicKey');

        const audit = await t.request<{ records: AuditRecord[] }>('GET', '/v1/audit/export');
        const actions = audit.body.records.map((record) => record.action);
        assert.equal(actions.filter((action) => action === 'signing-key.add').length, 1);
        assert.equal(actions.filter((action) => action === 'signing-key.revoke').length, 1);
      } finally {
        await t.close();
      }
    });

    test('a key that is not Ed25519 is refused naming publicKey', async () => {
      const t = await startTestControlPlane(backend);
      try {
        for (const publicKey of [
          '!'.repeat(43),
          'x',
          'A'.repeat(42),
          `${generateEd25519().publicKey}=`,
        ]) {
          const refused = await t.request<Fields>('POST', '/v1/signing-keys', {
            body: { publicKey },
          });
          assert.equal(refused.status, 400, publicKey);
          assert.equal(refused.body.fields?.[0]?.field, 'publicKey');
        }
      } finally {
        await t.close();
      }
    });

    test("another member's or another organization's key is not found, and stays", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const added = await t.request<SigningKey>('POST', '/v1/signing-keys', {
          body: { publicKey: generateEd25519().publicKey },
        });
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const stranger = await addUser(t.cp.context, { role: 'owner' });
        const ghost = 'sgk_doesnotexist00';
        for (const user of [member, stranger]) {
          const refused = await t.request<Fields>('DELETE', `/v1/signing-keys/${added.body.id}`, {
            token: user.token,
          });
          assert.equal(refused.status, 404);
          assert.equal(refused.body.code, 'not_found');
          const missing = await t.request<Fields>('DELETE', `/v1/signing-keys/${ghost}`, {
            token: user.token,
          });
          assert.equal(missing.status, 404);
          assert.equal(
            missing.body.message,
            refused.body.message.replace(added.body.id, ghost),
            'the refusal says the same whether or not the key exists',
          );
          const theirs = await t.request<{ signingKeys: SigningKey[] }>('GET', '/v1/signing-keys', {
            token: user.token,
          });
          assert.deepEqual(theirs.body.signingKeys, []);
        }
        const mine = await t.request<{ signingKeys: SigningKey[] }>('GET', '/v1/signing-keys');
        assert.equal(mine.body.signingKeys[0]?.revokedAt, undefined);
      } finally {
        await t.close();
      }
    });

    test('an auditor may not register keys, nor a token without secrets:write', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const auditor = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'auditor' });
        const narrow = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'member',
          scopes: ['secrets:read'],
        });
        for (const user of [auditor, narrow]) {
          const refused = await t.request('POST', '/v1/signing-keys', {
            token: user.token,
            body: { publicKey: generateEd25519().publicKey },
          });
          assert.equal(refused.status, 403);
        }
      } finally {
        await t.close();
      }
    });
  });
}
