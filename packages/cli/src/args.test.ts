import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, type ArgSpec } from './args.js';
import { UsageError } from './errors.js';

const spec = {
  positionals: [
    { name: 'env', required: true, describe: 'environment' },
    { name: 'extra', required: false, describe: 'optional' },
  ],
  flags: {
    name: { type: 'string', describe: 'a name', valueName: 'N' },
    wait: { type: 'boolean', describe: 'wait' },
    port: { type: 'integer', describe: 'port', min: 0, max: 65535 },
    ratio: { type: 'number', describe: 'ratio', min: 0, max: 1 },
    timeout: { type: 'duration', describe: 'timeout', min: 1, max: 3600 },
    scope: { type: 'string', describe: 'scope', multiple: true },
  },
} as const satisfies ArgSpec;

const withRest = {
  positionals: [{ name: 'env', required: true, describe: 'environment' }],
  rest: { name: 'command', describe: 'command' },
  flags: { cwd: { type: 'string', describe: 'cwd' } },
} as const satisfies ArgSpec;

const required = {
  flags: {
    'data-dir': { type: 'string', describe: 'dir', required: true, valueName: 'DIR' },
    scope: { type: 'string', describe: 'scope', multiple: true, required: true },
  },
} as const satisfies ArgSpec;

function usageError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('parseArgs', () => {
  it('reads positionals, values in both spellings, booleans and repeated flags', () => {
    const args = parseArgs(
      spec,
      ['e1', '--name', 'n1', '--port=8080', '--wait', '--scope', 'a', '--scope=b', 'x'],
      'test',
    );
    assert.deepEqual(args.positionals, { env: 'e1', extra: 'x' });
    assert.equal(args.flags.name, 'n1');
    assert.equal(args.flags.port, 8080);
    assert.equal(args.flags.wait, true);
    assert.deepEqual(args.flags.scope, ['a', 'b']);
    assert.equal(args.flags.json, false);
    assert.equal(args.flags.ratio, undefined);
  });

  it('gives defaults: booleans false, repeatable flags empty', () => {
    const args = parseArgs(spec, ['e1'], 'test');
    assert.equal(args.flags.wait, false);
    assert.deepEqual(args.flags.scope, []);
    assert.equal(args.positionals.extra, undefined);
  });

  it('refuses an unknown flag, naming it and suggesting a close one', () => {
    usageError(
      () => parseArgs(spec, ['e1', '--wiat'], 'test'),
      /unknown flag --wiat; did you mean --wait\?/,
    );
    usageError(() => parseArgs(spec, ['e1', '--zzzzzz'], 'test'), /^unknown flag --zzzzzz$/);
    usageError(() => parseArgs(spec, ['e1', '-x'], 'test'), /unknown flag -x/);
  });

  it('refuses a missing value, and a flag where a value should be', () => {
    usageError(() => parseArgs(spec, ['e1', '--name'], 'test'), /--name needs a value \(N\)/);
    usageError(() => parseArgs(spec, ['e1', '--name', '--wait'], 'test'), /--name needs a value/);
    assert.equal(parseArgs(spec, ['e1', '--name=--odd'], 'test').flags.name, '--odd');
  });

  it('refuses a value on a boolean flag and a single flag given twice', () => {
    usageError(() => parseArgs(spec, ['e1', '--wait=yes'], 'test'), /--wait takes no value/);
    usageError(
      () => parseArgs(spec, ['e1', '--name', 'a', '--name', 'b'], 'test'),
      /more than once/,
    );
  });

  it('checks integers, numbers and durations and their bounds', () => {
    usageError(
      () => parseArgs(spec, ['e1', '--port', 'abc'], 'test'),
      /--port must be a whole number from 0 to 65535, got "abc"/,
    );
    usageError(() => parseArgs(spec, ['e1', '--port', '65536'], 'test'), /got "65536"/);
    usageError(() => parseArgs(spec, ['e1', '--port', '-1'], 'test'), /got "-1"/);
    usageError(() => parseArgs(spec, ['e1', '--port', '1.5'], 'test'), /whole number/);
    usageError(
      () => parseArgs(spec, ['e1', '--port', '99999999999999999999'], 'test'),
      /whole number/,
    );
    usageError(
      () => parseArgs(spec, ['e1', '--ratio', '2'], 'test'),
      /--ratio must be a number from 0 to 1/,
    );
    usageError(() => parseArgs(spec, ['e1', '--ratio', '1e3'], 'test'), /--ratio must be a number/);
    assert.equal(parseArgs(spec, ['e1', '--ratio', '0.25'], 'test').flags.ratio, 0.25);
    assert.equal(parseArgs(spec, ['e1', '--timeout', '15m'], 'test').flags.timeout, 900);
    assert.equal(parseArgs(spec, ['e1', '--timeout', '30'], 'test').flags.timeout, 30);
    usageError(
      () => parseArgs(spec, ['e1', '--timeout', '2d'], 'test'),
      /--timeout must be a duration from 1 to 3600 seconds/,
    );
    usageError(() => parseArgs(spec, ['e1', '--timeout', 'soon'], 'test'), /got "soon"/);
  });

  it('names a missing positional and refuses stray ones', () => {
    usageError(() => parseArgs(spec, [], 'test'), /missing <env>/);
    usageError(() => parseArgs(spec, ['a', 'b', 'c'], 'test'), /unexpected argument "c"/);
  });

  it('requires required flags, repeatable ones included', () => {
    usageError(
      () => parseArgs(required, ['--scope', 'a'], 'test'),
      /--data-dir is required \(DIR\)/,
    );
    usageError(() => parseArgs(required, ['--data-dir', 'd'], 'test'), /--scope is required/);
    const args = parseArgs(required, ['--data-dir', 'd', '--scope', 'a'], 'test');
    assert.equal(args.flags['data-dir'], 'd');
  });

  it('passes everything after -- or after the last positional on, untouched', () => {
    const dashed = parseArgs(withRest, ['e1', '--cwd', '/w', '--', 'ls', '-la', '--json'], 'test');
    assert.deepEqual(dashed.rest, ['ls', '-la', '--json']);
    assert.equal(dashed.flags.json, false);
    assert.equal(dashed.flags.cwd, '/w');
    const bare = parseArgs(withRest, ['e1', 'sh', '-c', 'echo --cwd'], 'test');
    assert.deepEqual(bare.rest, ['sh', '-c', 'echo --cwd']);
    assert.equal(bare.flags.cwd, undefined);
  });

  it('refuses -- on a command that takes no rest', () => {
    usageError(() => parseArgs(spec, ['e1', '--', 'x'], 'test'), /no arguments after --/);
  });

  it('reads --help and -h without checking what is required', () => {
    assert.equal(parseArgs(required, ['--help'], 'test').flags.help, true);
    assert.equal(parseArgs(spec, ['-h'], 'test').flags.help, true);
  });

  it('keeps the command path on the error, for the usage line', () => {
    try {
      parseArgs(spec, ['--bad'], 'env create');
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(error instanceof UsageError);
      assert.equal(error.commandPath, 'env create');
      assert.deepEqual(error.fields, [{ field: 'bad', message: 'unknown flag --bad' }]);
    }
  });
});
