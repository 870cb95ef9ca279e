import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from './main.js';
import { commandEntries } from './registry.js';
import { captureIo } from './testing/capture-io.js';

/** Credentials that point nowhere: a usage error must come before any request. */
const env = { HANGAR_URL: 'http://127.0.0.1:9', HANGAR_TOKEN: 'hgt_unused' };

const usageCases: [string[], RegExp][] = [
  [['up', '--port', 'abc'], /--port must be a whole number from 0 to 65535, got "abc"/],
  [['up', '--gateway-port', '70000'], /--gateway-port must be a whole number from 0 to 65535/],
  [['up', '--log-level', 'loud'], /--log-level must be one of fatal, error/],
  [['up', '--hme', 'x'], /unknown flag --hme; did you mean --home\?/],
  [['up', 'extra'], /unexpected argument "extra"/],
  [['control'], /--data-dir is required/],
  [['control', '--data-dir', 'd', '--port', '-1'], /--port must be a whole number/],
  [['control', '--data-dir', 'd', '--public-url', 'ftp://x'], /--public-url must be an http/],
  [['control', '--data-dir'], /--data-dir needs a value/],
  [['runner', '--data-dir', 'd'], /--control-plane is required/],
  [['runner', '--control-plane', 'u'], /--data-dir is required/],
  [
    ['runner', '--control-plane', 'not a url', '--data-dir', 'd'],
    /--control-plane must be an http/,
  ],
  [
    ['runner', '--control-plane', 'http://127.0.0.1:9', '--data-dir', 'd', '--gateway-port', 'x'],
    /--gateway-port must be a whole number/,
  ],
  [
    [
      'runner',
      '--control-plane',
      'http://127.0.0.1:9',
      '--data-dir',
      'd',
      '--gateway-url',
      'ws://x',
    ],
    /--gateway-url must be an http/,
  ],
  [['runner', 'creat'], /unexpected argument "creat"/],
  [['runner', 'create'], /missing <name>/],
  [['runner', 'create', 'a', 'b'], /unexpected argument "b"/],
  [['runner', 'list', '--all'], /unknown flag --all/],
  [['env'], /env needs a command; env has: create, list/],
  [['env', 'make'], /unknown command "env make"/],
  [['env', 'create', '--ref', 'main'], /--ref needs a <repo>/],
  [['env', 'create', 'r', '--wait=yes'], /--wait takes no value/],
  [['env', 'create', 'r', '--name'], /--name needs a value/],
  [['env', 'create', 'r', 's'], /unexpected argument "s"/],
  [['env', 'list', '--all=1'], /--all takes no value/],
  [['env', 'get'], /missing <env>/],
  [['env', 'start'], /missing <env>/],
  [['env', 'stop', 'e', 'f'], /unexpected argument "f"/],
  [['env', 'delete', '--wait'], /missing <env>/],
  [['env', 'logs', 'e', '--tail-bytes', '0'], /--tail-bytes must be a whole number from 1/],
  [['env', 'exec', 'e'], /missing the command to run/],
  [['env', 'exec', 'e', '--timeout', 'x', '--', 'true'], /--timeout must be a duration/],
  [['env', 'exec', 'e', '--timeout', '0', '--', 'true'], /--timeout must be a duration/],
  [['env', 'exec', 'e', '--env', '1BAD=x', '--', 'true'], /--env 1BAD=x is not NAME=VALUE/],
  [['env', 'exec', 'e', '--env', 'NOVALUE', '--', 'true'], /--env NOVALUE is not NAME=VALUE/],
  [['env', 'exec', 'e', '--stdin', '--no-stdin', '--', 'true'], /contradict/],
  [['env', 'exec', '--', 'true'], /missing <env>/],
  [['audit', 'list', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
  [['audit', 'list', '--limit', '1001'], /--limit must be a whole number from 1 to 1000/],
  [['audit', 'list', '--since', 'yesterday'], /--since must be a time/],
  [['audit', 'list', '--until', '2024-13-01'], /--until must be a time/],
  [['audit', 'verify', '--file'], /--file needs a value/],
  [['audit', 'export', 'x'], /unexpected argument "x"/],
  [['devcontainer', 'read'], /missing <folder>/],
  [['devcontainer', 'read', '.', '--config'], /--config needs a value/],
  [['token', 'create'], /--scope is required/],
  [['token', 'create', '--scope', 'everything'], /unknown scope everything; scopes are/],
  [
    ['token', 'create', '--scope', 'audit:read', '--expires', '10'],
    /--expires must be a duration from 60/,
  ],
  [['token', 'create', '--scope', 'audit:read', '--expires', '2y'], /--expires must be a duration/],
  [['whoami', '--verbose'], /unknown flag --verbose/],
  [['nonsense'], /unknown command "nonsense"; commands: up, control, runner, env/],
];

describe('usage errors', () => {
  for (const [argv, pattern] of usageCases) {
    it(`hangar ${argv.join(' ')}`, async () => {
      const io = captureIo({ env });
      const code = await main(argv, io);
      const stderr = io.stderr.text();
      assert.equal(code, 2, stderr);
      assert.match(stderr, /^error invalid_request: /);
      assert.match(stderr, pattern);
      assert.equal(io.stdout.text(), '');
    });
  }

  it('shows the usage line of the command that was misused', async () => {
    const io = captureIo({ env });
    assert.equal(await main(['env', 'create', '--bogus'], io), 2);
    assert.match(io.stderr.text(), /usage: hangar env create \[<repo>\]/);
    assert.match(io.stderr.text(), /run `hangar env create --help` for every flag/);
  });

  it('prints a usage error as JSON on stdout with --json', async () => {
    const io = captureIo({ env });
    assert.equal(await main(['audit', 'list', '--limit', 'x', '--json'], io), 2);
    const body = JSON.parse(io.stdout.text()) as { error: { code: string; fields: unknown } };
    assert.equal(body.error.code, 'invalid_request');
    assert.deepEqual(body.error.fields, [
      { field: 'limit', message: 'must be a whole number from 1 to 1000' },
    ]);
  });

  it('exits 2 with the overview on stderr when no command is given', async () => {
    const io = captureIo();
    assert.equal(await main([], io), 2);
    assert.match(io.stderr.text(), /usage: hangar <command>/);
    assert.equal(io.stdout.text(), '');
  });
});

describe('help', () => {
  it('prints the overview on stdout for --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const io = captureIo();
      assert.equal(await main(argv, io), 0);
      assert.match(io.stdout.text(), /commands:\n {2}up /);
    }
  });

  for (const entry of commandEntries) {
    it(`hangar ${entry.path} --help`, async () => {
      const io = captureIo();
      assert.equal(await main([...entry.path.split(' '), '--help'], io), 0, io.stderr.text());
      assert.match(io.stdout.text(), new RegExp(`^usage: hangar ${entry.path}`));
      assert.match(io.stdout.text(), /--json +print machine-readable JSON/);
      const viaHelp = captureIo();
      assert.equal(await main(['help', ...entry.path.split(' ')], viaHelp), 0);
      assert.equal(viaHelp.stdout.text(), io.stdout.text());
    });
  }
});

describe('errors', () => {
  it('exits 1 with the code and message when the control plane cannot be reached', async () => {
    const io = captureIo({ env });
    assert.equal(await main(['env', 'list'], io), 1);
    assert.match(io.stderr.text(), /^error unreachable: cannot reach the control plane/);
  });

  it('exits 1 naming the missing credentials', async () => {
    const io = captureIo({ cwd: '/nonexistent-dir' });
    assert.equal(await main(['whoami', '--json'], io), 1);
    assert.match(io.stderr.text(), /error unauthenticated: no API token: run `hangar up`/);
    const body = JSON.parse(io.stdout.text()) as { error: { code: string } };
    assert.equal(body.error.code, 'unauthenticated');
  });
});
