import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiToken, AuditRecord, ErrorBody } from '@hangar/api';
import { lastUsedResolutionMs } from '../services/api-tokens.js';
import { testBackends } from '../storage/testing.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { addUser } from '../testing/users.js';

async function auditOf(t: TestControlPlane, action: string): Promise<AuditRecord[]> {
  const page = await t.request<{ records: AuditRecord[] }>('GET', `/v1/audit?action=${action}`);
  return page.body.records;
}

async function newToken(t: TestControlPlane, token?: string) {
  const created = await t.request<{ token: string; apiToken: ApiToken }>('POST', '/v1/tokens', {
    body: { scopes: ['environments:read'], expiresInS: 600 },
    ...(token ? { token } : {}),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

for (const backend of testBackends()) {
  describe(`API token list and revoke on ${backend.kind}`, () => {
    test('the list holds your tokens with their state, never a hash or secret', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await newToken(t);
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const listed = await t.request<{ tokens: ApiToken[] }>('GET', '/v1/tokens');
        assert.equal(listed.status, 200);
        const ids = listed.body.tokens.map((token) => token.id);
        assert.equal(ids.length, 2, 'the bootstrap token and the new one');
        assert.ok(ids.includes(made.apiToken.id));
        assert.ok(!ids.includes(member.tokenId), "another member's token is not listed");
        const fresh = listed.body.tokens.find((token) => token.id === made.apiToken.id);
        assert.deepEqual(fresh, made.apiToken, 'the list agrees with what create returned');

        const secret = made.token.slice(`hgr_${made.apiToken.id}_`.length);
        const rows = await t.cp.context.db.query<{ secret_hash: string }>(
          'SELECT secret_hash FROM api_tokens',
        );
        const text = JSON.stringify(listed.body);
        assert.ok(secret.length >= 40 && !text.includes(secret));
        for (const row of rows) assert.ok(!text.includes(row.secret_hash));
        assert.doesNotMatch(text, /"(secret|secret_?hash|hash)"/i, 'no hash or secret member');
      } finally {
        await t.close();
      }
    });

    test('lastUsedAt follows the requests a token makes, written at most once a minute', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await newToken(t);
        const find = async () => {
          const listed = await t.request<{ tokens: ApiToken[] }>('GET', '/v1/tokens');
          return listed.body.tokens.find((token) => token.id === made.apiToken.id);
        };
        assert.equal((await find())?.lastUsedAt, undefined, 'never used yet');
        await t.request('GET', '/v1/whoami', { token: made.token });
        const first = (await find())?.lastUsedAt;
        assert.ok(first, 'set by its first request');

        await t.request('GET', '/v1/whoami', { token: made.token });
        assert.equal((await find())?.lastUsedAt, first, 'not rewritten within the resolution');

        const stale = Date.parse(first) - lastUsedResolutionMs - 1;
        await t.cp.context.db.execute('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [
          stale,
          made.apiToken.id,
        ]);
        await t.request('GET', '/v1/whoami', { token: made.token });
        const later = (await find())?.lastUsedAt;
        assert.ok(later && Date.parse(later) > stale, 'rewritten once it is stale');
      } finally {
        await t.close();
      }
    });

    test('a revoked token is refused on its next request, and both are audited', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await newToken(t);
        const before = await t.request('GET', '/v1/whoami', { token: made.token });
        assert.equal(before.status, 200);

        const revoked = await t.request<ApiToken>('DELETE', `/v1/tokens/${made.apiToken.id}`);
        assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
        assert.equal(revoked.body.id, made.apiToken.id);
        assert.ok(revoked.body.revokedAt);
        const listed = await t.request<{ tokens: ApiToken[] }>('GET', '/v1/tokens');
        const shown = listed.body.tokens.find((token) => token.id === made.apiToken.id);
        assert.equal(shown?.revokedAt, revoked.body.revokedAt);

        const after = await t.request<ErrorBody>('GET', '/v1/whoami', { token: made.token });
        assert.equal(after.status, 401);
        assert.equal(after.body.code, 'unauthenticated');
        assert.match(after.body.message, /revoked/);

        const [record, ...others] = await auditOf(t, 'token.revoke');
        assert.equal(others.length, 0);
        assert.equal(record?.requestId, revoked.requestId);
        assert.equal(record?.target?.id, made.apiToken.id);
        assert.equal(record?.actor.id, t.owner.userId);
        assert.equal(record?.details.ownToken, false);
        const failures = await auditOf(t, 'auth.failure');
        const refusal = failures.find((r) => r.requestId === after.requestId);
        assert.equal(refusal?.details.reason, 'token revoked');
        assert.equal(refusal?.outcome, 'denied');
        assert.ok(!JSON.stringify(failures).includes(made.token), 'the token is never recorded');

        const again = await t.request<ErrorBody>('DELETE', `/v1/tokens/${made.apiToken.id}`);
        assert.equal(again.status, 409);
        assert.match(again.body.message, /already revoked at /);
        assert.equal((await auditOf(t, 'token.revoke')).length, 1);
      } finally {
        await t.close();
      }
    });

    test('a token may revoke itself, and cannot be used for the next request', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const made = await newToken(t);
        const revoked = await t.request<ApiToken>('DELETE', `/v1/tokens/${made.apiToken.id}`, {
          token: made.token,
        });
        assert.equal(revoked.status, 200);
        const after = await t.request<ErrorBody>('GET', '/v1/tokens', { token: made.token });
        assert.equal(after.status, 401);
        assert.equal(after.body.code, 'unauthenticated');
        const [record] = await auditOf(t, 'token.revoke');
        assert.equal(record?.details.ownToken, true);
      } finally {
        await t.close();
      }
    });

    test("another org's token and a missing one look the same: 404, and audited", async () => {
      const t = await startTestControlPlane(backend);
      try {
        const stranger = await addUser(t.cp.context, { role: 'owner' });
        const made = await newToken(t);
        const foreign = await t.request<ErrorBody>('DELETE', `/v1/tokens/${made.apiToken.id}`, {
          token: stranger.token,
        });
        const missing = await t.request<ErrorBody>('DELETE', '/v1/tokens/tok_0000000000000000', {
          token: stranger.token,
        });
        assert.equal(foreign.status, 404);
        assert.equal(missing.status, 404);
        assert.equal(
          foreign.body.message.replace(made.apiToken.id, 'ID'),
          missing.body.message.replace('tok_0000000000000000', 'ID'),
        );
        const listed = await t.request<ErrorBody>('GET', `/v1/tokens?userId=${t.owner.userId}`, {
          token: stranger.token,
        });
        assert.equal(listed.status, 200);
        assert.deepEqual(listed.body, { tokens: [] }, 'an admin of another org sees nothing');
        const still = await t.request('GET', '/v1/whoami', { token: made.token });
        assert.equal(still.status, 200, 'the token was not revoked');

        const page = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=access.denied',
          { token: stranger.token },
        );
        const probes = page.body.records.filter((r) => r.requestId === foreign.requestId);
        assert.equal(probes.length, 1, 'the probe is audited in the prober organization');
        assert.equal(probes[0]?.details.resource, made.apiToken.id);
      } finally {
        await t.close();
      }
    });

    test('a member revokes only their own tokens; owners and admins any in the org', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const orgId = t.owner.orgId;
        const member = await addUser(t.cp.context, { orgId, role: 'member' });
        const other = await addUser(t.cp.context, { orgId, role: 'member' });
        const admin = await addUser(t.cp.context, { orgId, role: 'admin' });

        const sideways = await t.request('DELETE', `/v1/tokens/${other.tokenId}`, {
          token: member.token,
        });
        assert.equal(sideways.status, 404, "a member cannot revoke another member's token");
        const peek = await t.request<ErrorBody>('GET', `/v1/tokens?userId=${other.userId}`, {
          token: member.token,
        });
        assert.equal(peek.status, 403);
        assert.match(peek.body.message, /only an owner or admin/);

        const asAdmin = await t.request<{ tokens: ApiToken[] }>(
          'GET',
          `/v1/tokens?userId=${member.userId}`,
          { token: admin.token },
        );
        assert.deepEqual(
          asAdmin.body.tokens.map((token) => token.id),
          [member.tokenId],
        );
        const byAdmin = await t.request<ApiToken>('DELETE', `/v1/tokens/${member.tokenId}`, {
          token: admin.token,
        });
        assert.equal(byAdmin.status, 200);
        const refused = await t.request('GET', '/v1/whoami', { token: member.token });
        assert.equal(refused.status, 401);
        const byOwner = await t.request('DELETE', `/v1/tokens/${other.tokenId}`);
        assert.equal(byOwner.status, 200);

        const records = await auditOf(t, 'token.revoke');
        assert.deepEqual(
          records.map((r) => [r.actor.id, r.details.tokenOwner]),
          [
            [admin.userId, member.userId],
            [t.owner.userId, other.userId],
          ],
        );
      } finally {
        await t.close();
      }
    });

    test('bad ids and unknown query fields are refused naming the field', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const badId = await t.request<ErrorBody>('DELETE', '/v1/tokens/not-a-token');
        assert.equal(badId.status, 400);
        assert.equal(badId.body.code, 'invalid_request');
        assert.ok(
          badId.body.fields?.some((f) => f.field === 'params.id'),
          JSON.stringify(badId.body),
        );
        const badQuery = await t.request<ErrorBody>('GET', '/v1/tokens?owner=me');
        assert.equal(badQuery.status, 400);
        assert.match(JSON.stringify(badQuery.body), /owner/);
        const badUser = await t.request<ErrorBody>('GET', '/v1/tokens?userId=x');
        assert.equal(badUser.status, 400);
        assert.ok(
          badUser.body.fields?.some((f) => f.field === 'query.userId'),
          JSON.stringify(badUser.body),
        );
      } finally {
        await t.close();
      }
    });
  });
}
