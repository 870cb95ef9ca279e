import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditRecord, Secret, SecretRecipient } from '@hangar/api';
import { testBackends } from '../storage/testing.js';
import { connectedRunner } from '../testing/fixtures.js';
import { ProtocolRunner } from '../testing/fake-runner.js';
import { startTestControlPlane, type TestControlPlane } from '../testing/harness.js';
import { putSecret, sealedBody, testAuthor } from '../testing/secrets.js';
import { addUser } from '../testing/users.js';

type Fields = { code: string; message: string; fields?: { field: string; message: string }[] };

/** A runner enrolled and connected without publishing an encryption key. */
async function runnerWithoutKey(t: TestControlPlane, name: string) {
  const created = await t.request<{ enrollmentToken: string }>('POST', '/v1/runners', {
    body: { name },
  });
  const runner = new ProtocolRunner(t.url);
  await runner.enroll(created.body.enrollmentToken);
  await runner.connect({ encryptionKey: null });
  return runner;
}

async function recipients(t: TestControlPlane, query: string, token = t.owner.token) {
  return t.request<{ recipients: SecretRecipient[] } & Fields>(
    'GET',
    `/v1/secrets/recipients?${query}`,
    { token },
  );
}

async function setProjects(t: TestControlPlane, projects: unknown[]) {
  const patched = await t.request('PATCH', '/v1/org/policy', { body: { projects } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
}

function firstField(body: Fields): string | undefined {
  return body.fields?.[0]?.field;
}

for (const backend of testBackends()) {
  describe(`secrets on ${backend.kind}`, () => {
    test('recipients are the enabled runners with a key, narrowed by a project', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: one } = await connectedRunner(t, 'one');
        const { runner: two } = await connectedRunner(t, 'two');
        await runnerWithoutKey(t, 'keyless');
        const { runner: off } = await connectedRunner(t, 'off');
        await t.request('POST', `/v1/runners/${off.runnerId}/disable`);

        const all = await recipients(t, 'scope=org');
        assert.deepEqual(
          all.body.recipients.map((item) => [item.name, item.runnerId, item.encryptionKey]),
          [
            ['one', one.runnerId, one.encryption.publicKey],
            ['two', two.runnerId, two.encryption.publicKey],
          ],
        );
        const listed = await t.request<{
          runners: { id: string; encryptionKeyFingerprint?: string }[];
        }>('GET', '/v1/runners');
        assert.match(
          listed.body.runners.find((item) => item.id === one.runnerId)?.encryptionKeyFingerprint ??
            '',
          /^SHA256:/,
        );

        await setProjects(t, [
          { name: 'web', repositoryPatterns: ['https://git.example.com/**'], runners: ['two'] },
          { name: 'any', repositoryPatterns: ['https://git.example.com/**'], runners: [] },
        ]);
        const web = await recipients(t, 'scope=project&project=web');
        assert.deepEqual(
          web.body.recipients.map((item) => item.runnerId),
          [two.runnerId],
        );
        const any = await recipients(t, 'scope=project&project=any');
        assert.equal(any.body.recipients.length, 2);
        const unknown = await recipients(t, 'scope=project&project=nope');
        assert.equal(unknown.status, 400);
        assert.equal(firstField(unknown.body), 'project');
        const missing = await recipients(t, 'scope=project');
        assert.equal(firstField(missing.body), 'project');
        const stray = await recipients(t, 'scope=user&project=web');
        assert.equal(firstField(stray.body), 'project');
      } finally {
        await t.close();
      }
    });

    test('a secret is stored with its metadata and ciphertexts, and versions follow', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner } = await connectedRunner(t, 'one');
        const author = await testAuthor(t);
        const set = await putSecret(t, author, { name: 'NPM_TOKEN', value: 'v1' });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        const secret = set.body as unknown as Secret;
        assert.equal(secret.scope, 'user');
        assert.equal(secret.scopeId, author.userId);
        assert.equal(secret.version, 1);
        assert.equal(secret.delivery, 'env');
        assert.equal(secret.target, 'NPM_TOKEN');
        assert.deepEqual(secret.runnerIds, [runner.runnerId]);

        const stale = await putSecret(t, author, { name: 'NPM_TOKEN', value: 'v1 again' });
        assert.equal(stale.status, 409);
        assert.equal(firstField(stale.body as Fields), 'version');
        const skipped = await putSecret(t, author, { name: 'NPM_TOKEN', value: 'v3', version: 3 });
        assert.equal(skipped.status, 409);
        assert.match((skipped.body as Fields).message, /seal version 2/);
        const fresh = await putSecret(t, author, { name: 'FRESH', value: 'v2', version: 2 });
        assert.equal(firstField(fresh.body as Fields), 'version');

        const next = await putSecret(t, author, {
          name: 'NPM_TOKEN',
          value: 'v2',
          version: 2,
          delivery: 'file',
          target: '/home/dev/.npmrc',
        });
        assert.equal(next.status, 200, JSON.stringify(next.body));
        assert.equal(next.body.id, secret.id);
        assert.equal(next.body.version, 2);
        const rows = await t.cp.context.db.query<{ version: number }>(
          'SELECT version FROM secret_ciphertexts WHERE secret_id = ?',
          [secret.id],
        );
        assert.deepEqual(
          rows.map((row) => Number(row.version)),
          [2],
          'the old version ciphertexts are replaced',
        );

        const audit = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=secret.set',
        );
        const record = audit.body.records.find((item) => item.details.version === 2);
        assert.equal(record?.details.name, 'NPM_TOKEN');
        assert.equal(record?.details.scope, 'user');
        assert.equal(record?.details.runnerCount, 1);
        assert.equal(record?.target?.id, secret.id);
      } finally {
        await t.close();
      }
    });

    test('every invalid target is refused naming target', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'one');
        const author = await testAuthor(t);
        const cases: [string, string][] = [
          ['env', 'PATH'],
          ['env', 'HOME'],
          ['env', 'LD_PRELOAD'],
          ['env', 'HANGAR_TOKEN'],
          ['env', 'LD_AUDIT'],
          ['env', 'BASH_ENV'],
          ['env', 'GIT_CONFIG_COUNT'],
          ['env', 'npm_config_registry'],
          ['env', '1ABC'],
          ['env', 'A-B'],
          ['file', 'relative/path'],
          ['file', '/home/dev/../etc/passwd'],
          ['file', '/home//dev'],
          ['file', '/home/dev/'],
          ['file', '/proc/self/environ'],
          ['file', '/sys/kernel/x'],
          ['file', '/dev/shm/x'],
          ['file', '/'],
          ['file', '/tmp/a\nb'],
          ['file', '/home/dev/.bashrc'],
          ['file', '/home/dev/.ssh/config'],
          ['file', '/etc/profile.d/x.sh'],
          ['file', '/usr/local/bin/git'],
          ['file', '/run/hangar/git-credentials/0'],
          ['git', 'https://git.example.com'],
          ['git', 'git.example.com:99999'],
          ['git', 'git.example.com/path'],
          ['git', 'us er@git.example.com'],
        ];
        for (const [delivery, target] of cases) {
          const refused = await putSecret(t, author, {
            name: 'S',
            value: 'x',
            delivery: delivery as 'env' | 'file' | 'git',
            target,
          });
          assert.equal(refused.status, 400, `${delivery} ${target}`);
          assert.equal(firstField(refused.body as Fields), 'target', `${delivery} ${target}`);
        }
        for (const [delivery, target] of [
          ['env', 'GITHUB_TOKEN'],
          ['file', '/home/dev/.config/token'],
          ['git', 'git.example.com'],
          ['git', 'git.internal:8443'],
          ['git', 'deploy@git.example.com'],
        ] as const) {
          const name = `OK_${delivery}_${target.length}`;
          const accepted = await putSecret(t, author, { name, value: 'x', delivery, target });
          assert.equal(
            accepted.status,
            200,
            `${delivery} ${target} ${JSON.stringify(accepted.body)}`,
          );
        }
        // Org and project files go under /run/secrets/ only: elsewhere they could run code in
        // every member's environment (~/.bashrc) or shadow what the sandbox provides.
        for (const target of ['/home/dev/.npmrc', '/home/dev/.bashrc', '/opt/x']) {
          const refused = await putSecret(t, author, {
            name: 'ORG_FILE',
            value: 'x',
            scope: 'org',
            delivery: 'file',
            target,
          });
          assert.equal(refused.status, 400, target);
          assert.match((refused.body as Fields).message, /under \/run\/secrets\//, target);
        }
        const shared = await putSecret(t, author, {
          name: 'ORG_FILE',
          value: 'x',
          scope: 'org',
          delivery: 'file',
          target: '/run/secrets/org-file',
        });
        assert.equal(shared.status, 200, JSON.stringify(shared.body));
      } finally {
        await t.close();
      }
    });

    test('a deleted secret stays a tombstone: an old envelope is not stored again', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'one');
        const author = await testAuthor(t);
        const old = await sealedBody(t, author, { name: 'ROTATED', value: 'old', scope: 'org' });
        const first = await t.request<Secret>('PUT', '/v1/secrets', { body: old });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        const rotated = await putSecret(t, author, {
          name: 'ROTATED',
          value: 'rotated',
          scope: 'org',
          version: 2,
        });
        assert.equal(rotated.status, 200);
        const deleted = await t.request('DELETE', `/v1/secrets/${first.body.id}`);
        assert.equal(deleted.status, 200);
        const listed = await t.request<{ secrets: Secret[] }>('GET', '/v1/secrets');
        assert.deepEqual(listed.body.secrets, []);
        const again = await t.request('DELETE', `/v1/secrets/${first.body.id}`);
        assert.equal(again.status, 404);
        const ciphertexts = await t.cp.context.db.query('SELECT * FROM secret_ciphertexts');
        assert.equal(ciphertexts.length, 0);

        const replay = await t.request<Fields & { nextVersion?: number }>('PUT', '/v1/secrets', {
          body: old,
        });
        assert.equal(replay.status, 409);
        assert.equal(firstField(replay.body), 'version');
        assert.match(replay.body.message, /deleted at version 2.*seal version 3/);
        assert.equal(replay.body.nextVersion, 3);

        const renewed = await putSecret(t, author, {
          name: 'ROTATED',
          value: 'new',
          scope: 'org',
          version: 3,
        });
        assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
        assert.notEqual(renewed.body.id, first.body.id, 'a secret set again is a new secret');
        const now = await t.request<{ secrets: Secret[] }>('GET', '/v1/secrets');
        assert.deepEqual(
          now.body.secrets.map((item) => [item.name, item.version]),
          [['ROTATED', 3]],
        );
        assert.equal((await t.request('DELETE', `/v1/secrets/${first.body.id}`)).status, 404);
      } finally {
        await t.close();
      }
    });

    test('ciphertexts are for exactly the recipients, each signed by the signing key', async () => {
      const t = await startTestControlPlane(backend);
      try {
        const { runner: one } = await connectedRunner(t, 'one');
        await connectedRunner(t, 'two');
        const author = await testAuthor(t);
        const other = await testAuthor(t);
        const body = await sealedBody(t, author, { name: 'API_KEY', value: 'sealed' });
        const put = (changed: Record<string, unknown>) =>
          t.request<Fields>('PUT', '/v1/secrets', { body: { ...body, ...changed } });

        const missing = await put({ ciphertexts: body.ciphertexts.slice(0, 1) });
        assert.equal(missing.status, 400);
        assert.equal(firstField(missing.body), 'ciphertexts');
        assert.match(missing.body.message, /two/);

        const stranger = await addUser(t.cp.context, { role: 'owner' });
        const strangerRunner = await t.request<{ runner: { id: string } }>('POST', '/v1/runners', {
          token: stranger.token,
          body: { name: 'theirs' },
        });
        const foreign = await put({
          ciphertexts: [
            ...body.ciphertexts,
            { runnerId: strangerRunner.body.runner.id, envelope: body.ciphertexts[0]?.envelope },
          ],
        });
        assert.equal(firstField(foreign.body), 'ciphertexts');
        const twice = await put({ ciphertexts: [...body.ciphertexts, body.ciphertexts[0]] });
        assert.equal(firstField(twice.body), 'ciphertexts');

        const forged = await sealedBody(t, other, { name: 'API_KEY', value: 'forged' });
        const wrongKey = await put({ ciphertexts: forged.ciphertexts });
        assert.equal(wrongKey.status, 400);
        assert.match(firstField(wrongKey.body) ?? '', /^ciphertexts\/[01]\/envelope$/);

        const renamed = await sealedBody(t, author, { name: 'OTHER', value: 'moved' });
        const moved = await put({ ciphertexts: renamed.ciphertexts });
        assert.match(firstField(moved.body) ?? '', /^ciphertexts\/0\/envelope$/);
        const swapped = body.ciphertexts.map((item, index) => ({
          runnerId: item.runnerId,
          envelope: body.ciphertexts[1 - index]?.envelope,
        }));
        const crossed = await put({ ciphertexts: swapped });
        assert.match(firstField(crossed.body) ?? '', /envelope$/, 'sealed to the other runner');
        const retargeted = await put({ target: 'ANOTHER_VAR' });
        assert.match(firstField(retargeted.body) ?? '', /envelope$/);
        const garbage = await put({
          ciphertexts: body.ciphertexts.map((item) => ({ ...item, envelope: 'bm90IGpzb24' })),
        });
        assert.match(firstField(garbage.body) ?? '', /envelope$/);

        const foreignKey = await put({ signingKeyId: other.signingKeyId });
        assert.equal(firstField(foreignKey.body), 'ciphertexts/0/envelope');
        const member = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' });
        const memberKey = await testAuthor(t, member);
        const notMine = await put({ signingKeyId: memberKey.signingKeyId });
        assert.equal(firstField(notMine.body), 'signingKeyId');
        await t.request('DELETE', `/v1/signing-keys/${author.signingKeyId}`);
        const revoked = await put({});
        assert.equal(firstField(revoked.body), 'signingKeyId');

        const stored = await t.cp.context.db.query('SELECT id FROM secrets');
        assert.equal(stored.length, 0, 'nothing refused was stored');
        const denied = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=secret.set',
        );
        assert.ok(denied.body.records.length > 0);
        assert.ok(denied.body.records.every((record) => record.outcome === 'denied'));
        assert.ok(one.runnerId);
      } finally {
        await t.close();
      }
    });

    test('members set only user secrets and see only their own; others are not found', async () => {
      const t = await startTestControlPlane(backend);
      try {
        await connectedRunner(t, 'one');
        await setProjects(t, [
          { name: 'web', repositoryPatterns: ['https://git.example.com/**'], runners: [] },
        ]);
        const owner = await testAuthor(t);
        const member = await testAuthor(
          t,
          await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'member' }),
        );
        const orgSecret = await putSecret(t, owner, { name: 'ORG', value: 'o', scope: 'org' });
        assert.equal(orgSecret.status, 200, JSON.stringify(orgSecret.body));
        const ownerSecret = await putSecret(t, owner, { name: 'MINE', value: 'u' });
        const project = await putSecret(t, owner, {
          name: 'WEB',
          value: 'p',
          scope: 'project',
          project: 'web',
        });
        assert.equal(project.status, 200, JSON.stringify(project.body));

        for (const scope of ['org', 'project'] as const) {
          const refused = await putSecret(t, member, {
            name: 'NOPE',
            value: 'n',
            scope,
            ...(scope === 'project' ? { project: 'web' } : {}),
          });
          assert.equal(refused.status, 403, scope);
        }
        const own = await putSecret(t, member, { name: 'MINE', value: 'm' });
        assert.equal(own.status, 200, 'the same name is a different user secret');

        const seen = await t.request<{ secrets: Secret[] }>('GET', '/v1/secrets', {
          token: member.token,
        });
        assert.deepEqual(
          seen.body.secrets.map((item) => `${item.scope}:${item.name}:${item.authorId}`).sort(),
          [`org:ORG:${owner.userId}`, `project:WEB:${owner.userId}`, `user:MINE:${member.userId}`],
        );

        const hidden = await t.request<Fields>(
          'DELETE',
          `/v1/secrets/${String(ownerSecret.body.id)}`,
          {
            token: member.token,
          },
        );
        assert.equal(hidden.status, 404);
        const ghost = await t.request<Fields>('DELETE', '/v1/secrets/sec_doesnotexist00', {
          token: member.token,
        });
        assert.equal(
          ghost.body.message,
          hidden.body.message.replace(String(ownerSecret.body.id), 'sec_doesnotexist00'),
        );
        const orgDelete = await t.request('DELETE', `/v1/secrets/${String(orgSecret.body.id)}`, {
          token: member.token,
        });
        assert.equal(orgDelete.status, 403);

        const stranger = await addUser(t.cp.context, { role: 'owner' });
        for (const id of [orgSecret.body.id, ownerSecret.body.id]) {
          const refused = await t.request('DELETE', `/v1/secrets/${String(id)}`, {
            token: stranger.token,
          });
          assert.equal(refused.status, 404);
        }
        const strangerList = await t.request<{ secrets: Secret[] }>('GET', '/v1/secrets', {
          token: stranger.token,
        });
        assert.deepEqual(strangerList.body.secrets, []);

        const auditor = await addUser(t.cp.context, { orgId: t.owner.orgId, role: 'auditor' });
        const auditorList = await t.request('GET', '/v1/secrets', { token: auditor.token });
        assert.equal(auditorList.status, 403);
        const readOnly = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'owner',
          scopes: ['secrets:read'],
        });
        const noWrite = await t.request('DELETE', `/v1/secrets/${String(orgSecret.body.id)}`, {
          token: readOnly.token,
        });
        assert.equal(noWrite.status, 403);
        const noRead = await addUser(t.cp.context, {
          orgId: t.owner.orgId,
          role: 'owner',
          scopes: ['environments:read'],
        });
        assert.equal((await t.request('GET', '/v1/secrets', { token: noRead.token })).status, 403);

        const deleted = await t.request<Secret>('DELETE', `/v1/secrets/${String(own.body.id)}`, {
          token: member.token,
        });
        assert.equal(deleted.status, 200);
        const audit = await t.request<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=secret.delete',
        );
        assert.equal(audit.body.records[0]?.details.name, 'MINE');
        const left = await t.cp.context.db.query('SELECT * FROM secret_ciphertexts');
        assert.equal(left.length, 3);
      } finally {
        await t.close();
      }
    });
  });
}
