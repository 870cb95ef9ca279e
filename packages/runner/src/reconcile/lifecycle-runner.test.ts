import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../git/testing/index.js';
import type { EnvdClient, ExecOptions } from '../providers/provider.js';
import { Masker } from '../secrets/masker.js';
import { LabeledLines, runHook } from './lifecycle-runner.js';

test('a line that arrives in several chunks is labelled once, at its start', () => {
  const lines = new LabeledLines('postStartCommand');
  assert.equal(lines.push(Buffer.from('cat: ')), '');
  assert.equal(
    lines.push(Buffer.from('/run/x: No such file\nnext line\npart')),
    '[postStartCommand] cat: /run/x: No such file\n[postStartCommand] next line\n',
  );
  const euro = Buffer.from(' €\n');
  assert.equal(lines.push(euro.subarray(0, 3)), '', 'half a character waits');
  assert.equal(lines.push(euro.subarray(3)), '[postStartCommand] part €\n');
  assert.equal(lines.push(Buffer.from('no line break at the end')), '');
  assert.equal(lines.end(), '[postStartCommand] no line break at the end\n');
  assert.equal(lines.end(), '');
});

test('a line longer than 64 KiB is written in parts rather than held', () => {
  const lines = new LabeledLines('x');
  const written = lines.push(Buffer.alloc(70 * 1024, 'a'));
  assert.equal(written.length, '[x] '.length + 70 * 1024 + 1);
  assert.equal(lines.end(), '');
});

test('the lifecycle log prefixes each line of stdout and stderr, not each chunk', async () => {
  const temp = await makeTempDir('hangar-lifecycle-log-');
  try {
    const logPath = join(temp.path, 'lifecycle.log');
    const chunks: Array<['stdout' | 'stderr', string]> = [
      ['stdout', 'cat: '],
      ['stderr', 'warn: a'],
      ['stdout', '/run/x: No such file\nnext '],
      ['stderr', 'lso the-secret-value\n'],
      ['stdout', 'line'],
    ];
    // A fake envd that prints in chunks, as a real one does when a pipe fills in between.
    const envd = {
      async exec(options: ExecOptions) {
        for (const [stream, text] of chunks) {
          const deliver = stream === 'stdout' ? options.onStdout : options.onStderr;
          await deliver?.(Buffer.from(text));
        }
        return { exitCode: 0, signal: null, timedOut: false, durationMs: 1 };
      },
    } as Partial<EnvdClient> as EnvdClient;
    await runHook({
      envd,
      plan: {
        hook: 'postStartCommand',
        parallel: false,
        steps: [{ name: undefined, argv: ['sh', '-c', 'cat /run/x'], viaShell: true }],
      },
      env: {},
      cwd: '/workspaces/w',
      logPath,
      timeoutMs: 10_000,
      signal: new AbortController().signal,
      masker: new Masker([Buffer.from('the-secret-value')]),
    });
    assert.equal(
      await readFile(logPath, 'utf8'),
      [
        '[postStartCommand] $ sh -c cat /run/x',
        '[postStartCommand] cat: /run/x: No such file',
        '[postStartCommand] warn: also ***',
        '[postStartCommand] next line',
        '[postStartCommand] exited with code 0',
        '',
      ].join('\n'),
    );
  } finally {
    await temp.remove();
  }
});
