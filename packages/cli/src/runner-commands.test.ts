import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprint, generateEd25519, type Runner } from '@hangar/api';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-runners-');
const run = fixture.run;

/** Creates a runner and enrolls a fresh key for it, as a runner would on its first start. */
async function enrolledRunner(name: string) {
  const created = JSON.parse((await run(['runner', 'create', name, '--json'])).stdout) as {
    enrollmentToken: string;
    runner: Runner;
  };
  const keys = generateEd25519();
  const response = await fetch(`${fixture.cp.url}/v1/runners/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enrollmentToken: created.enrollmentToken, publicKey: keys.publicKey }),
  });
  assert.equal(response.status, 200);
  return { id: created.runner.id, fingerprint: fingerprint(keys.publicKey) };
}

describe('runner trust commands against a real control plane', () => {
  it('runner list shows the key fingerprint; disable and enable change the state', async () => {
    const runner = await enrolledRunner('trusted');
    const listed = await run(['runner', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME +ID +STATE +KEY +SECRETS KEY +GATEWAY +LAST SEEN/);
    const row = new RegExp(
      `trusted +${runner.id} +offline +${runner.fingerprint.replace(/\+/g, '\\+')}`,
    );
    assert.match(listed.stdout, row);

    const disabled = await run(['runner', 'disable', runner.id]);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout.trim(), `runner trusted (${runner.id}) is disabled`);
    const body = JSON.parse((await run(['runner', 'list', '--json'])).stdout) as {
      runners: Runner[];
    };
    assert.equal(body.runners[0]?.state, 'disabled');
    assert.equal(body.runners[0]?.publicKeyFingerprint, runner.fingerprint);

    const rotate = await run(['runner', 'rotate-key', runner.id]);
    assert.equal(rotate.code, 1);
    assert.match(rotate.stderr, /^error conflict: .*is disabled.*enable it first/);
    const enabled = await run(['runner', 'enable', runner.id]);
    assert.equal(enabled.stdout.trim(), `runner trusted (${runner.id}) is offline`);
    const rotated = await run(['runner', 'rotate-key', runner.id]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /key rotation requested for runner trusted .*SHA256:/);
  });

  it('runner disable refuses an unknown runner and a token without runners:admin', async () => {
    const unknown = await run(['runner', 'disable', 'run_aaaaaaaaaaaaaaaa']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error not_found: runner run_aaaaaaaaaaaaaaaa does not exist/);
    const created = await run([
      'token',
      'create',
      '--scope',
      'environments:read',
      '--expires',
      '1h',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const env = { HANGAR_URL: fixture.cp.url, HANGAR_TOKEN: created.stdout.trim() };
    const denied = await run(['runner', 'disable', 'run_aaaaaaaaaaaaaaaa'], { env });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^error forbidden: the API token lacks the scope runners:admin/);
  });
});
