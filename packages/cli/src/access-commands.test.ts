import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { AuditRecord, Environment, OrgPolicy, PortShare, SshKey } from '@hangar/api';
import { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import { commandsFixture } from './testing/commands-fixture.js';

const execute = promisify(execFile);

const fixture = commandsFixture('hangar-cli-access-');
const run = fixture.run;

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** A key pair made by the real ssh-keygen in the scratch folder, and its fingerprint. */
async function sshKeygen(name: string, type = 'ed25519') {
  const path = join(fixture.scratch, name);
  await execute('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'me@desk', '-f', path]);
  const { stdout } = await execute('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  return { path, fingerprint: stdout.split(' ')[1] ?? '' };
}

async function audited(action: string): Promise<AuditRecord[]> {
  const page = await fixture.api.get<{ records: AuditRecord[] }>('/v1/audit', { action });
  return page.records;
}

describe('ssh-key, port and org policy commands against a real control plane', () => {
  it('ssh-key add reads a .pub file or stdin; list and remove find keys by fingerprint', async () => {
    const first = await sshKeygen('id_first');
    const second = await sshKeygen('id_second', 'ecdsa');
    const added = await run(['ssh-key', 'add', 'id_first.pub', '--name', 'desk']);
    assert.equal(added.code, 0, added.stderr);
    assert.ok(
      added.stdout.startsWith(`added ssh-ed25519 key ${first.fingerprint} (key_`),
      added.stdout,
    );
    assert.match(added.stdout, / "desk"\n$/);
    const line = await readFile(`${second.path}.pub`, 'utf8');
    const piped = await run(['ssh-key', 'add', '-', '--json'], { stdin: line });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(json<SshKey>(piped.stdout).fingerprint, second.fingerprint);

    const listed = await run(['ssh-key', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +FINGERPRINT +TYPE +NAME +ADDED/);
    assert.match(listed.stdout, /ssh-ed25519 256 +desk/);
    assert.match(listed.stdout, /ecdsa-sha2-nistp256 256 +-/);

    const again = await run(['ssh-key', 'add', `${first.path}.pub`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error conflict: the key SHA256:\S+ is already registered/);

    const removed = await run(['ssh-key', 'remove', first.fingerprint]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^removed SHA256:/);
    const missing = await run(['ssh-key', 'remove', first.fingerprint]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error not_found: no SSH key of yours is SHA256:/);
    const left = json<{ sshKeys: SshKey[] }>((await run(['ssh-key', 'list', '--json'])).stdout);
    assert.deepEqual(
      left.sshKeys.map((key) => key.fingerprint),
      [second.fingerprint],
    );
    assert.equal((await audited('ssh-key.remove')).length, 1);
  });

  it('ssh-key add refuses a private key without sending it', async () => {
    const key = await sshKeygen('id_secret');
    const before = (await audited('ssh-key.add')).length;
    const refused = await run(['ssh-key', 'add', key.path]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^error invalid_request: \S+id_secret holds a private key, .*\(\S+id_secret\.pub\)/,
    );
    assert.equal((await audited('ssh-key.add')).length, before, 'nothing reached the server');
    const unreadable = await run(['ssh-key', 'add', 'nope.pub']);
    assert.equal(unreadable.code, 1);
    assert.match(
      unreadable.stderr,
      /^error not_found: .*nope.pub does not exist; give the .pub file/,
    );
    const usage = await run(['ssh-key', 'add']);
    assert.equal(usage.code, 2);
  });

  it('port share and unshare follow the org policy, which org policy set changes', async () => {
    const created = await fixture.api.post<{ enrollmentToken: string }>('/v1/runners', {
      name: 'ports',
    });
    const runner = new ProtocolRunner(fixture.cp.url);
    await runner.enroll(created.enrollmentToken);
    await runner.connect();
    try {
      const environment = await fixture.api.post<Environment>('/v1/environments', { name: 'web' });

      const shared = await run(['port', 'share', 'web', '3000']);
      assert.equal(shared.code, 0, shared.stderr);
      assert.match(shared.stdout, /^port 3000 of web is shared with the organization/);
      await runner.waitFor(
        (m) => m.type === 'environment' && m.environment.ports.some((p) => p.port === 3000),
      );

      const refused = await run(['port', 'share', 'web', '3000', '--level', 'public']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error forbidden: the organization policy maxPortShareLevel/);
      assert.match(refused.stderr, /hangar org policy set --max-port-share-level public/);

      const policy = await run(['org', 'policy', 'get']);
      assert.match(policy.stdout, /^max port share level: org\n[\s\S]*\nupdated: +never/);
      const set = await run(['org', 'policy', 'set', '--max-port-share-level', 'public']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(
        set.stdout,
        new RegExp(
          `^max port share level: public\\n[\\s\\S]*\\nupdated: .* by ${fixture.cp.userId}`,
        ),
      );

      const open = await run([
        'port',
        'share',
        environment.id,
        '3000',
        '--level',
        'public',
        '--json',
      ]);
      assert.equal(open.code, 0, open.stderr);
      assert.equal(json<PortShare>(open.stdout).effectiveLevel, 'public');
      const closed = await run(['port', 'unshare', 'web', '3000']);
      assert.equal(closed.code, 0, closed.stderr);
      assert.match(closed.stdout, /is private \(only you\)/);
      const read = json<OrgPolicy>((await run(['org', 'policy', 'get', '--json'])).stdout);
      assert.equal(read.maxPortShareLevel, 'public');

      for (const argv of [
        ['port', 'share', 'web', '0'],
        ['port', 'share', 'web', 'http'],
        ['port', 'share', 'web', '3000', '--level', 'world'],
        ['org', 'policy', 'set', '--max-port-share-level', 'everyone'],
        ['org', 'policy', 'set'],
      ]) {
        const bad = await run(argv);
        assert.equal(bad.code, 2, argv.join(' '));
        assert.match(bad.stderr, /^error invalid_request: /);
      }
      const records = await audited('environment.port.share');
      assert.deepEqual(
        records.map((r) => `${r.details.oldLevel}>${r.details.newLevel}`),
        ['private>org', 'org>public', 'public>private'],
      );
    } finally {
      runner.close();
    }
  });

  it('env get shows the last activity the runner reported', async () => {
    const created = await fixture.api.post<{ enrollmentToken: string }>('/v1/runners', {
      name: 'busy',
    });
    const runner = new ProtocolRunner(fixture.cp.url);
    await runner.enroll(created.enrollmentToken);
    await runner.connect();
    try {
      const environment = await fixture.api.post<Environment>('/v1/environments', {
        name: 'busy',
        runnerId: runner.runnerId,
      });
      const quiet = await run(['env', 'get', 'busy']);
      assert.doesNotMatch(quiet.stdout, /last active/);
      const at = new Date(Date.now() - 5000).toISOString();
      runner.send({
        type: 'activity',
        environments: [{ environmentId: environment.id, lastActiveAt: at }],
      });
      let shown = '';
      for (let attempt = 0; attempt < 100 && !shown.includes(at); attempt += 1) {
        shown = (await run(['env', 'get', 'busy'])).stdout;
        if (!shown.includes(at)) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(shown, new RegExp(`last active: ${at}`));
    } finally {
      runner.close();
    }
  });
});
