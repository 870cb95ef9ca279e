import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiToken, AuditRecord } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

interface Made {
  token: string;
  id: string;
}

/**
 * A token made with `parent` (the owner's bootstrap token when absent), expiring a little
 * sooner the deeper it is, since a token cannot outlive the one that makes it.
 */
async function child(t: TestControlPlane, parent?: Made, depth = 0): Promise<Made> {
  const created = await t.request<{ token: string; apiToken: ApiToken }>('POST', '/v1/tokens', {
    body: { scopes: ['environments:read', 'audit:read'], expiresInS: 600 - depth * 60 },
    ...(parent ? { token: parent.token } : {}),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { token: created.body.token, id: created.body.apiToken.id };
}

async function works(t: TestControlPlane, made: Made): Promise<boolean> {
  return (await t.request('GET', '/v1/whoami', { token: made.token })).status === 200;
}

for (const backend of testBackends()) {
  describe(`token lineage on ${backend.kind}`, () => {
    test('revoking a token revokes the whole tree made with it, one record per token', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const root = await child(t);
        const left = await child(t, root, 1);
        const right = await child(t, root, 1);
        const grandchild = await child(t, left, 2);
        const sibling = await child(t);
        const rows = await t.cp.context.db.query<{ id: string; parent_id: string | null }>(
          'SELECT id, parent_id FROM api_tokens WHERE id IN (?, ?, ?) ORDER BY id',
          [root.id, left.id, grandchild.id],
        );
        const parents = new Map(rows.map((row) => [row.id, row.parent_id]));
        assert.equal(parents.get(left.id), root.id);
        assert.equal(parents.get(grandchild.id), left.id);

        const alreadyRevoked = await t.request('DELETE', `/v1/tokens/${right.id}`);
        assert.equal(alreadyRevoked.status, 200);
        const revoked = await t.request<ApiToken>('DELETE', `/v1/tokens/${root.id}`);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        assert.equal(revoked.body.id, root.id);

        for (const made of [root, left, right, grandchild]) {
          assert.equal(await works(t, made), false, `${made.id} is refused`);
        }
        assert.equal(await works(t, sibling), true, 'a token made beside it still works');
        assert.equal(
          (await t.request('GET', '/v1/whoami')).status,
          200,
          'the parent of the revoked token is untouched',
        );

        const page = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=token.revoke',
        );
        const ofRequest = page.body.records.filter(
          (record) => record.requestId === revoked.requestId,
        );
        assert.deepEqual(
          ofRequest.map((record) => record.target?.id),
          [root.id, left.id, grandchild.id],
          'one record per token revoked; the one revoked before is not revoked again',
        );
        assert.equal(ofRequest[0]?.details.descendants, 2);
        assert.equal(ofRequest[1]?.details.revokedWith, root.id);
        assert.equal(ofRequest[2]?.details.revokedWith, root.id);
      } finally {
        await t.close();
      }
    });

    test('a token revoking its own parent ends itself too, in the same transaction', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const parent = { token: member.token, id: member.tokenId };
        const made = await child(t, parent);
        const revoked = await t.request('DELETE', `/v1/tokens/${parent.id}`, {
          token: made.token,
        });
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        assert.equal(await works(t, made), false);
        assert.equal(await works(t, parent), false);
      } finally {
        await t.close();
      }
    });

    test('when the audit record cannot be written no token of the tree is revoked', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const root = await child(t);
        const leaf = await child(t, root, 1);
        const db = t.cp.context.db;
        // Fails the second record: the root's is written, then its child's is refused.
        if (db.kind === 'sqlite') {
          await db.execute(
            `CREATE TRIGGER audit_fails BEFORE INSERT ON audit_records
             WHEN NEW.target_id = '${leaf.id}'
             BEGIN SELECT RAISE(ABORT, 'audit storage is full'); END`,
          );
        } else {
          await db.execute(
            `CREATE FUNCTION audit_fails() RETURNS trigger AS $$
             BEGIN
               IF NEW.target_id = '${leaf.id}' THEN RAISE EXCEPTION 'audit storage is full'; END IF;
               RETURN NEW;
             END $$ LANGUAGE plpgsql`,
          );
          await db.execute(
            `CREATE TRIGGER audit_fails BEFORE INSERT ON audit_records
             FOR EACH ROW EXECUTE FUNCTION audit_fails()`,
          );
        }
        const refused = await t.request('DELETE', `/v1/tokens/${root.id}`);
        assert.equal(refused.status, 503);
        assert.equal(await works(t, root), true, 'the root stays valid: nothing was committed');
        assert.equal(await works(t, leaf), true);
      } finally {
        await t.close();
      }
    });
  });
}
