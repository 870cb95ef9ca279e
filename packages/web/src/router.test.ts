import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf, routeOf } from './router.js';

test('every page path reads back to the page it names', () => {
  const paths = ['/', '/environments/env_abc', '/agents', '/agents/agt_1', '/audit', '/runners'];
  for (const path of [...paths, '/org', '/sign-in/callback']) {
    assert.equal(pathOf(routeOf(path)), path);
  }
  assert.deepEqual(routeOf('/environments/env_abc'), { page: 'environment', id: 'env_abc' });
});

test('anything else is not found, ids included that no API would make', () => {
  for (const path of [
    '/environments',
    '/environments/a/b',
    '/audit/x',
    '/nope',
    '/agents/%2e%2e',
  ]) {
    assert.equal(routeOf(path).page, 'not-found', path);
  }
});
