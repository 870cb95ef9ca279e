import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HangarError, type ApiToken, type AuditRecord } from '@hangar/api';
import { issueApiToken } from '../services/api-tokens.js';
import { lockParentToken, maxTokenDepth } from '../services/token-lineage.js';
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

/**
 * `length` tokens, each made with the one before, written straight to the database as older
 * releases allowed (no depth limit); the first is made with `parentId`.
 */
async function legacyChain(t: TestControlPlane, parentId: string, length: number) {
  return t.cp.context.db.transaction(async (tx) => {
    const made: Made[] = [];
    let parent = parentId;
    for (let depth = 0; depth < length; depth += 1) {
      const issued = await issueApiToken(tx, {
        userId: t.owner.userId,
        orgId: t.owner.orgId,
        scopes: ['environments:read'],
        expiresInS: 3000,
        parentId: parent,
      });
      made.push({ token: issued.token, id: issued.id });
      parent = issued.id;
    }
    return made;
  });
}

for (const backend of testBackends()) {
  describe(`token lineage limits on ${backend.kind}`, () => {
    test(`a token may be made through at most ${maxTokenDepth} tokens`, async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made: Made[] = [];
        for (let depth = 1; depth <= maxTokenDepth; depth += 1) {
          made.push(await child(t, made.at(-1), depth));
        }
        const deeper = await t.request<{ message: string }>('POST', '/v1/tokens', {
          token: made.at(-1)?.token ?? null,
          body: { scopes: ['environments:read'], expiresInS: 60 },
        });
        assert.equal(deeper.status, 403, JSON.stringify(deeper.body));
        assert.match(deeper.body.message, new RegExp(`at most ${maxTokenDepth} tokens`));
        assert.equal(await works(t, made.at(-1)!), true, 'the deepest allowed one works');
      } finally {
        await t.close();
      }
    });

    test('a token whose ancestor is revoked is refused, even if the revoke missed it', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const root = await child(t);
        const middle = await child(t, root, 1);
        const leaf = await child(t, middle, 2);
        // As a revoke that raced the leaf's creation would leave it: the middle alone revoked.
        await t.cp.context.db.execute('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [
          Date.now(),
          middle.id,
        ]);
        const refused = await t.request<{ message: string }>('GET', '/v1/whoami', {
          token: leaf.token,
        });
        assert.equal(refused.status, 401);
        assert.match(refused.body.message, /revoked/);
        assert.equal(await works(t, root), true, 'the tokens above are untouched');
      } finally {
        await t.close();
      }
    });

    test('making a token locks its parent and refuses one revoked meanwhile', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const root = await child(t);
        const db = t.cp.context.db;
        await db.transaction((tx) => lockParentToken(tx, db.forUpdate, root.id));
        await db.execute('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [
          Date.now(),
          root.id,
        ]);
        await assert.rejects(
          db.transaction((tx) => lockParentToken(tx, db.forUpdate, root.id)),
          (error: unknown) => error instanceof HangarError && error.code === 'unauthenticated',
        );
      } finally {
        await t.close();
      }
    });

    test('no token made while its parent is being revoked outlives the revoke', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const survivors: string[] = [];
        for (let round = 0; round < 5; round += 1) {
          const parent = await child(t);
          const make = () =>
            t.request<{ token: string; apiToken: ApiToken }>('POST', '/v1/tokens', {
              token: parent.token,
              body: { scopes: ['environments:read'], expiresInS: 300 },
            });
          const makes = Array.from({ length: 10 + round }, make);
          const revoke = t.request('DELETE', `/v1/tokens/${parent.id}`);
          makes.push(...Array.from({ length: 20 }, make));
          const made = await Promise.all(makes);
          assert.equal((await revoke).status, 200);
          for (const answer of made.filter((item) => item.status === 201)) {
            const token = { token: answer.body.token, id: answer.body.apiToken.id };
            if (await works(t, token)) survivors.push(token.id);
          }
        }
        assert.deepEqual(survivors, [], 'children of a revoked token that still work');
      } finally {
        await t.close();
      }
    });

    test('revoke and logout end a chain of any length, and never fail on it', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const root = await child(t);
        const chain = await legacyChain(t, root.id, 1100);
        assert.equal(await works(t, chain[maxTokenDepth - 2]!), true);
        assert.equal(await works(t, chain.at(-1)!), false, 'a chain past the limit is refused');
        const revoked = await t.request('DELETE', `/v1/tokens/${root.id}`);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        const left = await t.cp.context.db.query<{ n: number }>(
          'SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL AND id IN (?, ?, ?)',
          [root.id, chain[0]!.id, chain.at(-1)!.id],
        );
        assert.equal(Number(left[0]?.n), 0, 'every token of the chain is revoked');

        const session = await child(t);
        const sessionChain = await legacyChain(t, session.id, 1100);
        const out = await t.request('POST', '/v1/auth/logout', { token: session.token });
        assert.equal(out.status, 200, JSON.stringify(out.body));
        const alive = await t.cp.context.db.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL AND id IN (?, ?)`,
          [sessionChain[0]!.id, sessionChain.at(-1)!.id],
        );
        assert.equal(Number(alive[0]?.n), 0, 'logout reaches the end of the chain');
      } finally {
        await t.close();
      }
    });
  });
}
