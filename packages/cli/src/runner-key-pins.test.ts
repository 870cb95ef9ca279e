import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fingerprint, generateX25519, type Secret } from '@hangar/api';
import { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import { checkRunnerKeys } from './runner-key-pins.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-pins-');
const run = fixture.run;
let runner: ProtocolRunner;

async function versionOf(name: string): Promise<number | undefined> {
  const { secrets } = await fixture.api.get<{ secrets: Secret[] }>('/v1/secrets');
  return secrets.find((item) => item.name === name)?.version;
}

/** What someone who can write the control plane's database does: name a key of their own. */
async function swapRunnerKey(publicKey: string): Promise<void> {
  await fixture.cp.cp.context.db.execute('UPDATE runners SET encryption_key = ? WHERE id = ?', [
    publicKey,
    runner.runnerId,
  ]);
}

describe('runner key pinning in secret set', () => {
  before(async () => {
    const created = await fixture.api.post<{ enrollmentToken: string }>('/v1/runners', {
      name: 'pinned',
    });
    runner = new ProtocolRunner(fixture.cp.url);
    await runner.enroll(created.enrollmentToken);
    await runner.connect();
  });

  it('pins each runner key at the first seal and names the keys sealed to', async () => {
    const real = fingerprint(runner.encryption.publicKey);
    const first = await run(['secret', 'set', 'PINNED'], { stdin: 'pinned-value' });
    assert.equal(first.code, 0, first.stderr);
    assert.ok(
      first.stderr.includes(
        `sealed to runner pinned (${runner.runnerId}) key ${real} (first seal to this runner: ` +
          'pinned now)',
      ),
      first.stderr,
    );
    const path = join(fixture.scratch, '.hangar', 'runner-keys.json');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const pins = JSON.parse(await readFile(path, 'utf8')) as {
      runners: Record<string, { fingerprint: string }>;
    };
    assert.equal(pins.runners[runner.runnerId]?.fingerprint, real);
    const again = await run(['secret', 'set', 'PINNED'], { stdin: 'second-value' });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`key ${real.replace(/[+/]/g, '\\$&')}\\n`));
  });

  it('refuses a changed runner key, naming both fingerprints, until it is accepted', async () => {
    const real = runner.encryption.publicKey;
    const swapped = generateX25519();
    await swapRunnerKey(swapped.publicKey);
    try {
      const refused = await run(['secret', 'set', 'PINNED'], { stdin: 'would-leak' });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error conflict: runner pinned \(run_\w+\) now has/);
      for (const shown of [fingerprint(real), fingerprint(swapped.publicKey)]) {
        assert.ok(refused.stderr.includes(shown), shown);
      }
      assert.match(refused.stderr, /printed in its own log when it started/);
      assert.match(refused.stderr, new RegExp(`--accept-runner-key ${runner.runnerId}`));
      assert.equal(await versionOf('PINNED'), 2, 'nothing was stored');

      const otherRunner = await run(
        ['secret', 'set', 'PINNED', '--accept-runner-key', 'run_someoneelse00'],
        { stdin: 'would-leak' },
      );
      assert.equal(otherRunner.code, 1, 'accepting another runner accepts nothing here');

      const accepted = await run(
        ['secret', 'set', 'PINNED', '--accept-runner-key', runner.runnerId],
        { stdin: 'accepted-value' },
      );
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.match(accepted.stderr, /new key accepted: pinned now/);
      assert.equal(await versionOf('PINNED'), 3);
      const next = await run(['secret', 'set', 'PINNED'], { stdin: 'next-value' });
      assert.equal(next.code, 0, 'the accepted key is the pinned one now');
    } finally {
      await swapRunnerKey(real);
    }
    const back = await run(['secret', 'set', 'PINNED'], { stdin: 'back-value' });
    assert.equal(back.code, 1, 'the real key is a change from the accepted one');
    const repinned = await run(
      ['secret', 'set', 'PINNED', '--accept-runner-key', runner.runnerId],
      { stdin: 'back-value' },
    );
    assert.equal(repinned.code, 0, repinned.stderr);
  });

  it('checks every recipient, pinning new ones beside the pinned', () => {
    const one = generateX25519().publicKey;
    const two = generateX25519().publicKey;
    const now = new Date(0).toISOString();
    const recipients = [
      { runnerId: 'run_aaaaaaaaaaaa', name: 'a', encryptionKey: one },
      { runnerId: 'run_bbbbbbbbbbbb', name: 'b', encryptionKey: two },
    ];
    const pins = { run_aaaaaaaaaaaa: { fingerprint: fingerprint(one), name: 'a', pinnedAt: now } };
    const checked = checkRunnerKeys(pins, recipients, [], now);
    assert.deepEqual(
      checked.checked.map((item) => item.state),
      ['pinned', 'new'],
    );
    assert.equal(checked.pins['run_bbbbbbbbbbbb']?.fingerprint, fingerprint(two));
    const changed = [{ ...recipients[0]!, encryptionKey: two }];
    assert.throws(() => checkRunnerKeys(pins, changed, [], now), /now has encryption key/);
  });

  it('a secret deleted and set again continues from its highest version', async () => {
    assert.equal((await run(['secret', 'set', 'AGAIN'], { stdin: 'one' })).code, 0);
    assert.equal((await run(['secret', 'set', 'AGAIN'], { stdin: 'two' })).code, 0);
    const deleted = await run(['secret', 'delete', 'AGAIN']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const set = await run(['secret', 'set', 'AGAIN'], { stdin: 'three' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /AGAIN version 3/);
  });

  it('a NUL in a variable or an org file outside /run/secrets/ is refused unsealed', async () => {
    const nul = await run(['secret', 'set', 'NUL_VALUE'], { stdin: 'a\0b' });
    assert.equal(nul.code, 1);
    assert.match(nul.stderr, /^error invalid_request: NUL_VALUE was not set: .*NUL byte/);
    const rc = await run(['secret', 'set', 'RC', '--org', '--file', '/home/dev/.bashrc'], {
      stdin: 'echo hi\n',
    });
    assert.equal(rc.code, 2);
    assert.match(rc.stderr, /^error invalid_request: --file must be under \/run\/secrets\//);
    const names = (await fixture.api.get<{ secrets: Secret[] }>('/v1/secrets')).secrets;
    assert.ok(!names.some((item) => item.name === 'NUL_VALUE' || item.name === 'RC'));
  });
});
