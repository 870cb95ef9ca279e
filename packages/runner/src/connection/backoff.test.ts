import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.js';

test('delays grow exponentially to the cap, with jitter between half and all of it', () => {
  const top = new Backoff({ baseMs: 100, capMs: 1000, random: () => 1 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => top.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  const bottom = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0 });
  assert.deepEqual(
    [1, 2, 3].map(() => bottom.next()),
    [50, 100, 200],
  );
  top.reset();
  assert.equal(top.next(), 100);
});
