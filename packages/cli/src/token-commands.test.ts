import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiToken, AuditRecord } from '@hangar/api';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-tokens-');
const run = fixture.run;

async function audited(action: string): Promise<AuditRecord[]> {
  const page = await fixture.api.get<{ records: AuditRecord[] }>('/v1/audit', { action });
  return page.records;
}

/** A new token of the owner's, made with `hangar token create`, and its id. */
async function createToken(scope: string) {
  const created = await run(['token', 'create', '--scope', scope, '--expires', '1h', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const body = JSON.parse(created.stdout) as { token: string; apiToken: ApiToken };
  return { token: body.token, id: body.apiToken.id };
}

describe('token list and revoke against a real control plane', () => {
  it('token list shows each token and its state; token revoke makes it fail at once', async () => {
    const made = await createToken('audit:read');
    const env = { HANGAR_URL: fixture.cp.url, HANGAR_TOKEN: made.token };
    const works = await run(['whoami'], { env });
    assert.equal(works.code, 0, works.stderr);

    const listed = await run(['token', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +SCOPES +CREATED +EXPIRES +LAST USED +STATE\n/);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(made.id)) ?? '';
    assert.match(row, /audit:read +\S+ +\S+ +\S+Z +active$/, 'used once, still active');
    assert.ok(!listed.stdout.includes(made.token), 'a token is shown only when created');

    const revoked = await run(['token', 'revoke', made.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `revoked ${made.id} (audit:read)\n`);

    const refused = await run(['whoami'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error unauthenticated: .*revoked.*HANGAR_TOKEN/);

    const after = await run(['token', 'list', '--json']);
    const { tokens } = JSON.parse(after.stdout) as { tokens: ApiToken[] };
    const shown = tokens.find((token) => token.id === made.id);
    assert.ok(shown?.revokedAt);
    assert.ok(shown.lastUsedAt);
    assert.match((await run(['token', 'list'])).stdout, new RegExp(`${made.id} .* revoked \\S+Z`));

    const again = await run(['token', 'revoke', made.id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error conflict: API token tok_\S+ was already revoked/);
    const records = await audited('token.revoke');
    assert.deepEqual(
      records.map((record) => record.target?.id),
      [made.id],
    );
  });

  it('a token revokes itself, and the next command with it is refused', async () => {
    const made = await createToken('environments:read');
    const env = { HANGAR_URL: fixture.cp.url, HANGAR_TOKEN: made.token };
    const revoked = await run(['token', 'revoke', made.id], { env });
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await run(['token', 'list'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error unauthenticated: /);
  });

  it('token revoke refuses what is not a token id before asking, and unknown ids as not found', async () => {
    const before = (await audited('access.denied')).length;
    const bad = await run(['token', 'revoke', 'env_0000000000000000x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error invalid_request: the token id must look like tok_/);
    const none = await run(['token', 'revoke']);
    assert.equal(none.code, 2);
    assert.equal((await audited('access.denied')).length, before, 'nothing reached the server');

    const missing = await run(['token', 'revoke', 'tok_0000000000000000']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error not_found: API token tok_0+ does not exist or is not yours/,
    );
  });
});
