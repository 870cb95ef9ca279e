import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envFrom } from './commands/env-exec.js';
import { repositoryUrlFrom } from './commands/env-create.js';
import { UsageError } from './errors.js';
import { exitCodeOf, streamUrl } from './exec-stream.js';
import { lastLines } from './gateway.js';

describe('exitCodeOf', () => {
  const exit = { exitCode: 0, signal: null, timedOut: false, durationMs: 1 };

  it('passes the exit code on, 124 on timeout, 128+n for signal n', () => {
    assert.equal(exitCodeOf({ ...exit, exitCode: 7 }), 7);
    assert.equal(exitCodeOf({ ...exit, exitCode: null, signal: 'SIGKILL' }), 137);
    assert.equal(exitCodeOf({ ...exit, exitCode: null, signal: 'SIGTERM' }), 143);
    assert.equal(exitCodeOf({ ...exit, exitCode: null, signal: 'SIGKILL', timedOut: true }), 124);
    assert.equal(exitCodeOf({ ...exit, exitCode: null }), 1);
  });
});

describe('streamUrl', () => {
  it('turns the gateway URL into the exec WebSocket URL', () => {
    const access = {
      token: 't',
      expiresAt: '',
      runnerId: 'run_x',
      environmentId: 'env_0123456789abcdef',
      gatewayUrl: 'https://runner.example:7701/',
    };
    assert.equal(
      streamUrl(access),
      'wss://runner.example:7701/v1/environments/env_0123456789abcdef/exec/stream',
    );
    assert.match(streamUrl({ ...access, gatewayUrl: 'http://127.0.0.1:1' }), /^ws:\/\/127/);
  });
});

describe('envFrom', () => {
  it('reads NAME=VALUE pairs, keeping = and newlines in values', () => {
    assert.equal(envFrom([]), undefined);
    assert.deepEqual(envFrom(['A=1', '_B=x=y', 'C=', 'D=two\nlines']), {
      A: '1',
      _B: 'x=y',
      C: '',
      D: 'two\nlines',
    });
  });

  it('refuses a pair without = or with a bad name', () => {
    for (const pair of ['A', '=1', '1A=x', 'A-B=x']) {
      assert.throws(() => envFrom([pair]), UsageError, pair);
    }
  });
});

describe('repositoryUrlFrom', () => {
  it('makes local paths absolute and leaves URLs alone', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'hangar-cli-repo-'));
    try {
      await mkdir(join(cwd, 'here'));
      assert.equal(repositoryUrlFrom('./x', cwd), join(cwd, 'x'));
      assert.equal(repositoryUrlFrom('../x', cwd), join(cwd, '..', 'x'));
      assert.equal(repositoryUrlFrom('here', cwd), join(cwd, 'here'));
      assert.equal(repositoryUrlFrom('/abs/repo', cwd), '/abs/repo');
      assert.equal(repositoryUrlFrom('https://host/r.git', cwd), 'https://host/r.git');
      assert.equal(repositoryUrlFrom('file:///srv/r', cwd), 'file:///srv/r');
      assert.equal(repositoryUrlFrom('git@host:org/r.git', cwd), 'git@host:org/r.git');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('lastLines', () => {
  it('keeps the last lines, without the trailing newline', () => {
    assert.deepEqual(lastLines('a\nb\nc\n', 2), ['b', 'c']);
    assert.deepEqual(lastLines(Buffer.from(''), 5), []);
  });
});
