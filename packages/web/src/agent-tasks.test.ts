import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { agentTools as apiTools } from '@hangar/api';
import { agentTools, isFinalState, promptSha256 } from './agent-tasks.js';

test('the prompt digest is the SHA-256 the runner checks', async () => {
  for (const prompt of ['make the tests pass', 'ünïcödé ✓ 🚀\n', 'x'.repeat(100_000)]) {
    const expected = createHash('sha256').update(prompt, 'utf8').digest('hex');
    assert.equal(await promptSha256(prompt), expected);
  }
});

test('the form offers every tool the API knows', () => {
  assert.deepEqual([...agentTools].sort(), [...apiTools].sort());
});

test('final states', () => {
  assert.equal(isFinalState('running'), false);
  assert.equal(isFinalState('queued'), false);
  for (const state of ['succeeded', 'failed', 'cancelled', 'limit_reached'] as const) {
    assert.equal(isFinalState(state), true);
  }
});
