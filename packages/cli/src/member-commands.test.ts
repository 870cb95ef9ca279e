import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord, Member } from '@hangar/api';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-members-');
const run = fixture.run;
const issuer = 'https://id.example.test';

async function audited(action: string): Promise<AuditRecord[]> {
  const page = await fixture.api.get<{ records: AuditRecord[] }>('/v1/audit', { action });
  return page.records;
}

async function addMember(subject: string, role: string): Promise<Member> {
  const added = await run([
    'member',
    'add',
    '--issuer',
    issuer,
    '--subject',
    subject,
    '--role',
    role,
    '--json',
  ]);
  assert.equal(added.code, 0, added.stderr);
  return JSON.parse(added.stdout) as Member;
}

describe('member commands against a real control plane', () => {
  it('member add, list, set-role and remove do what they say and are audited', async () => {
    const added = await run([
      'member',
      'add',
      '--issuer',
      issuer,
      '--subject',
      'ann',
      '--role',
      'member',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`^added usr_\\S+ member oidc:${issuer}#ann\\n$`));
    const id = /usr_[0-9a-z]+/.exec(added.stdout)?.[0] ?? '';

    const listed = await run(['member', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +ROLE +SIGNS IN AS +PROFILE +ADDED +STATE\n/);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(id)) ?? '';
    assert.match(row, new RegExp(`^${id} +member +oidc:${issuer}#ann +- +\\S+Z +active$`));
    assert.match(listed.stdout, new RegExp(`${fixture.cp.userId} +owner +local:owner`));

    const changed = await run(['member', 'set-role', id, 'auditor']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout, `${id} auditor oidc:${issuer}#ann\n`);
    const [update] = await audited('member.role.update');
    assert.deepEqual([update?.details.old, update?.details.new], ['member', 'auditor']);

    const removed = await run(['member', 'remove', id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(
      removed.stdout,
      new RegExp(`^removed ${id} \\(auditor, oidc:\\S+#ann\\) at \\S+Z\\n$`),
    );
    const after = await run(['member', 'list', '--json']);
    const { members } = JSON.parse(after.stdout) as { members: Member[] };
    assert.ok(members.find((member) => member.id === id)?.removedAt);
    assert.match((await run(['member', 'list'])).stdout, new RegExp(`${id} .* removed \\S+Z`));
    assert.equal((await audited('member.remove'))[0]?.target?.id, id);
  });

  it('refusals come back with the rule that refused, and bad ids never reach the server', async () => {
    const self = await run(['member', 'set-role', fixture.cp.userId, 'admin']);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /^error forbidden: you cannot change the role of yourself/);
    const removeSelf = await run(['member', 'remove', fixture.cp.userId]);
    assert.match(removeSelf.stderr, /^error forbidden: you cannot remove yourself/);

    const badRole = await run([
      'member',
      'add',
      '--issuer',
      issuer,
      '--subject',
      'x',
      '--role',
      'god',
    ]);
    assert.equal(badRole.code, 2);
    assert.match(badRole.stderr, /the role must be one of owner, admin, member, auditor/);
    const badIssuer = await run([
      'member',
      'add',
      '--issuer',
      'ftp://x',
      '--subject',
      'x',
      '--role',
      'member',
    ]);
    assert.match(badIssuer.stderr, /^error invalid_request: issuer must be an https URL/);

    const member = await addMember('bo', 'member');
    const again = await run([
      'member',
      'add',
      '--issuer',
      issuer,
      '--subject',
      'bo',
      '--role',
      'admin',
    ]);
    assert.match(
      again.stderr,
      /^error conflict: bo at \S+ is already a member of your organization/,
    );
    const missing = await run(['member', 'set-role', 'usr_0000000000000000', 'admin']);
    assert.match(missing.stderr, /^error not_found: member usr_0000000000000000 does not exist/);
    assert.notEqual(member.id, 'usr_0000000000000000');

    const denied = (await audited('access.denied')).length;
    const bad = await run(['member', 'remove', 'bo']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error invalid_request: the member must be a user id such as usr_/);
    const none = await run(['member', 'set-role', member.id]);
    assert.equal(none.code, 2);
    assert.equal((await audited('access.denied')).length, denied, 'nothing reached the server');
  });
});
