import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultEnvdPackageDir, nodePtyPackageDir } from './sandbox-provider.js';

test("node-pty is found from envd's package, with its native build", () => {
  const dir = nodePtyPackageDir(defaultEnvdPackageDir());
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
  assert.equal(manifest.name, 'node-pty');
  assert.ok(existsSync(join(dir, 'build', 'Release', 'pty.node')));
});

test('a missing or unbuilt node-pty is refused, saying what to run', () => {
  const root = mkdtempSync(join(tmpdir(), 'hangar-node-pty-'));
  try {
    const envd = join(root, 'envd');
    mkdirSync(envd);
    writeFileSync(join(envd, 'package.json'), '{"name":"@hangar/envd","type":"module"}');
    assert.throws(() => nodePtyPackageDir(envd), {
      code: 'internal',
      message: /node-pty, which envd needs for terminals, is not installed .*run `npm install`/,
    });
    const unbuilt = join(envd, 'node_modules', 'node-pty');
    mkdirSync(unbuilt, { recursive: true });
    writeFileSync(join(unbuilt, 'package.json'), '{"name":"node-pty","main":"lib/index.js"}');
    assert.throws(() => nodePtyPackageDir(envd), {
      code: 'internal',
      message: /has no native build .*npm rebuild node-pty/,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
