import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockDataDir } from './data-dir-lock.js';

test('a second runner on one data directory is refused; a dead one is taken over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hangar-lock-'));
  const sleeper = spawn('sleep', ['30']);
  try {
    await writeFile(join(dir, 'runner.pid'), `${sleeper.pid}\n`);
    await assert.rejects(lockDataDir(dir), /another runner \(pid \d+\) is using/);
    sleeper.kill();
    await new Promise((resolve) => sleeper.on('close', resolve));
    const lock = await lockDataDir(dir);
    assert.equal((await readFile(join(dir, 'runner.pid'), 'utf8')).trim(), String(process.pid));
    await lock.release();
    await assert.rejects(readFile(join(dir, 'runner.pid')), /ENOENT/);
  } finally {
    sleeper.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
