import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';

/** Where the build puts the dashboard, seen from this file in dist/node. */
const appDir = fileURLToPath(new URL('../app/', import.meta.url));
const limitBytes = 500 * 1024;

test('the built dashboard is under 500 kB gzipped, and index.html loads no inline script', async () => {
  const assets = await readdir(`${appDir}assets`);
  assert.ok(
    assets.some((name) => name.endsWith('.js')),
    'a script was built',
  );
  let gzipped = 0;
  for (const name of [...assets.map((asset) => `assets/${asset}`), 'index.html']) {
    gzipped += gzipSync(await readFile(`${appDir}${name}`), { level: 9 }).length;
  }
  assert.ok(gzipped < limitBytes, `${gzipped} bytes gzipped`);
  const html = await readFile(`${appDir}index.html`, 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
  assert.doesNotMatch(html, /<style|style="/, 'an inline style');
});
