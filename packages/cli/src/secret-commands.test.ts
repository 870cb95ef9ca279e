import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type DesiredEnvironment,
  type Secret,
  type ServerMessage,
  type SigningKey,
} from '@hangar/api';
import { ProtocolRunner } from '@hangar/control-plane/testing/fake-runner.js';
import { commandsFixture } from './testing/commands-fixture.js';

const fixture = commandsFixture('hangar-cli-secrets-');
const run = fixture.run;
let runner: ProtocolRunner;
let environment: { id: string };

/** The value the runner opens for secret `name` in the environment's newest pushed state. */
async function delivered(name: string, version: number): Promise<string> {
  const message = await runner.waitFor<ServerMessage & { type: 'environment' }>(
    (item) =>
      item.type === 'environment' &&
      item.environment.id === environment.id &&
      (item.environment.secrets ?? []).some((s) => s.name === name && s.version === version),
  );
  const state: DesiredEnvironment = message.environment;
  const secret = state.secrets?.find((item) => item.name === name && item.version === version);
  assert.ok(secret);
  const opened = runner.open(state, secret);
  assert.ok(opened.ok, 'the runner opens what the CLI sealed');
  return opened.value.toString('utf8');
}

async function secrets(): Promise<Secret[]> {
  return (await fixture.api.get<{ secrets: Secret[] }>('/v1/secrets')).secrets;
}

describe('secret commands against a real control plane', () => {
  before(async () => {
    const created = await fixture.api.post<{ enrollmentToken: string }>('/v1/runners', {
      name: 'sealer',
    });
    runner = new ProtocolRunner(fixture.cp.url);
    await runner.enroll(created.enrollmentToken);
    await runner.connect();
    environment = await fixture.api.post<{ id: string }>('/v1/environments', {});
  });

  it('secret set seals stdin to the runner; the signing key is made once, mode 0600', async () => {
    const set = await run(['secret', 'set', 'NPM_TOKEN'], { stdin: 'npm-token-value\n' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(
      set.stdout,
      /^set user secret NPM_TOKEN version 1, sealed to 1 runner \(env NPM_TOKEN\)/,
    );
    assert.match(set.stderr, /registered signing key SHA256:\S+ \(kept in .*signing-key\.json\)/);
    assert.equal(
      await delivered('NPM_TOKEN', 1),
      'npm-token-value',
      'one trailing newline dropped',
    );

    const keyFile = join(fixture.scratch, '.hangar', 'signing-key.json');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const again = await run(['secret', 'set', 'NPM_TOKEN', '--json'], { stdin: 'second' });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /registered/);
    const body = JSON.parse(again.stdout) as Secret;
    assert.equal(body.version, 2);
    assert.deepEqual(body.runnerIds, [runner.runnerId]);
    assert.equal(await delivered('NPM_TOKEN', 2), 'second');
    const keys = await fixture.api.get<{ signingKeys: SigningKey[] }>('/v1/signing-keys');
    assert.equal(keys.signingKeys.length, 1);
    const stored = JSON.parse(await readFile(keyFile, 'utf8')) as { publicKey: string };
    assert.equal(keys.signingKeys[0]?.publicKey, stored.publicKey);
  });

  it('a value given as an argument is refused before anything is read or sent', async () => {
    const refused = await run(['secret', 'set', 'ARGUED', 'hunter2-in-argv'], { stdin: 'x' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /read from stdin only, never from an argument/);
    assert.doesNotMatch(refused.stderr + refused.stdout, /hunter2/);
    assert.ok(!(await secrets()).some((item) => item.name === 'ARGUED'));
  });

  it('a terminal gets a prompt without echo; empty and oversized values are refused', async () => {
    const typed = await run(['secret', 'set', 'TYPED', '--env-var', 'TYPED_VAR'], {
      stdin: 'typed\x7fD value\r',
      stdinIsTTY: true,
    });
    assert.equal(typed.code, 0, typed.stderr);
    assert.match(typed.stderr, /^value of user secret TYPED: \n/);
    assert.ok(!(typed.stderr + typed.stdout).includes('typeD value'), 'not echoed');
    assert.equal(await delivered('TYPED', 1), 'typeD value');

    const empty = await run(['secret', 'set', 'EMPTY'], { stdin: '\n' });
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error invalid_request: the secret value is empty/);
    const large = await run(['secret', 'set', 'LARGE'], { stdin: Buffer.alloc(64 * 1024 + 1, 97) });
    assert.equal(large.code, 1);
    assert.match(large.stderr, /^error payload_too_large: the secret value is over 64 KiB/);
    const names = (await secrets()).map((item) => item.name);
    assert.ok(!names.includes('EMPTY') && !names.includes('LARGE'));
    const largest = await run(['secret', 'set', 'LARGEST'], {
      stdin: Buffer.alloc(64 * 1024, 97),
    });
    assert.equal(largest.code, 0, largest.stderr);
    assert.equal((await delivered('LARGEST', 1)).length, 64 * 1024);
  });

  it('a file secret keeps its bytes; flags that conflict or a bad target are refused', async () => {
    const file = await run(['secret', 'set', 'npmrc', '--file', '/home/dev/.npmrc'], {
      stdin: 'line one\nline two\n',
    });
    assert.equal(file.code, 0, file.stderr);
    assert.equal(await delivered('npmrc', 1), 'line one\nline two\n');

    const both = await run(['secret', 'set', 'X', '--org', '--user'], { stdin: 'x' });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /at most one of --org, --project P and --user/);
    const twoWays = await run(['secret', 'set', 'X', '--file', '/a', '--git-host', 'h'], {
      stdin: 'x',
    });
    assert.equal(twoWays.code, 2);
    const dotted = await run(['secret', 'set', 'my.token'], { stdin: 'x' });
    assert.equal(dotted.code, 2);
    assert.match(dotted.stderr, /my\.token is not an environment variable name/);
    const reserved = await run(['secret', 'set', 'X', '--env-var', 'PATH'], { stdin: 'x' });
    assert.equal(reserved.code, 2);
    assert.match(
      reserved.stderr,
      /^error invalid_request: --env-var PATH is set by the environment/,
    );
    const project = await run(['secret', 'set', 'X', '--project', 'nope'], { stdin: 'x' });
    assert.equal(project.code, 1);
    assert.match(project.stderr, /project nope is not a project of the organization policy/);
  });

  it('the signing key lives beside a credentials file; a revoked one is replaced', async () => {
    const home = join(fixture.scratch, 'home');
    const credentials = join(fixture.scratch, 'creds.json');
    await writeFile(
      credentials,
      JSON.stringify({ controlPlaneUrl: fixture.cp.url, token: fixture.cp.token, orgId: 'x' }),
      { mode: 0o600 },
    );
    const env = { HANGAR_CREDENTIALS: credentials, HANGAR_HOME: home };
    const set = await run(['secret', 'set', 'BESIDE'], { env, stdin: 'v' });
    assert.equal(set.code, 0, set.stderr);
    const keyFile = join(fixture.scratch, 'signing-key.json');
    const first = JSON.parse(await readFile(keyFile, 'utf8')) as { publicKey: string };
    const keys = await fixture.api.get<{ signingKeys: SigningKey[] }>('/v1/signing-keys');
    const registered = keys.signingKeys.find((key) => key.publicKey === first.publicKey);
    assert.ok(registered);
    await fixture.api.delete(`/v1/signing-keys/${registered.id}`);

    const after = await run(['secret', 'set', 'BESIDE'], { env, stdin: 'v2' });
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stderr, /registered signing key/);
    const second = JSON.parse(await readFile(keyFile, 'utf8')) as { publicKey: string };
    assert.notEqual(second.publicKey, first.publicKey);
    assert.equal(await delivered('BESIDE', 2), 'v2');
  });

  it('secret list shows metadata only; secret delete removes one by name and scope', async () => {
    await run(['secret', 'set', 'LISTED', '--git-host', 'git.example.com'], {
      stdin: 'list-value',
    });
    const listed = await run(['secret', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME +SCOPE +DELIVERY +TARGET +VERSION +RUNNERS +UPDATED/);
    assert.match(listed.stdout, /\nLISTED +user +git +git\.example\.com +1 +1 /);
    assert.doesNotMatch(listed.stdout, /list-value/);
    const json = JSON.parse((await run(['secret', 'list', '--json'])).stdout) as {
      secrets: Secret[];
    };
    assert.ok(json.secrets.some((item) => item.name === 'LISTED'));

    const wrongScope = await run(['secret', 'delete', 'LISTED', '--org']);
    assert.equal(wrongScope.code, 1);
    assert.match(wrongScope.stderr, /^error not_found: there is no org secret LISTED/);
    const deleted = await run(['secret', 'delete', 'LISTED']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /^deleted user secret LISTED \(sec_/);
    assert.ok(!(await secrets()).some((item) => item.name === 'LISTED'));
  });

  it('secret set --model-key stores a model key that environments never receive', async () => {
    const made = await run(['secret', 'set', 'model-key', '--model-key'], { stdin: 'mk-value' });
    assert.equal(made.code, 0, made.stderr);
    const stored = (await secrets()).find((item) => item.name === 'model-key');
    assert.equal(stored?.delivery, 'model');
    const both = await run(['secret', 'set', 'X', '--model-key', '--env-var', 'X'], {
      stdin: 'x',
    });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /at most one of .*--model-key/);
  });

  it('secret set says so when no runner can receive it', async () => {
    await fixture.api.post(`/v1/runners/${runner.runnerId}/disable`);
    try {
      const refused = await run(['secret', 'set', 'NOWHERE'], { stdin: 'x' });
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^error runner_unavailable: no runner can receive a user secret/,
      );
    } finally {
      await fixture.api.post(`/v1/runners/${runner.runnerId}/enable`);
    }
  });
});
