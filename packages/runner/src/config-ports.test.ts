import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import { resolveRunnerConfig } from './config.js';

const base = { controlPlaneUrl: 'http://127.0.0.1:1', dataDir: '/tmp/hangar-config-test' };

test('portsDomain and terminalGraceMs: defaults, and a bad value names its field', async () => {
  const plain = await resolveRunnerConfig(base);
  assert.equal(plain.portsDomain, undefined);
  assert.equal(plain.terminalGraceMs, 600_000, 'a terminal waits 10 minutes for its client');
  const set = await resolveRunnerConfig({ ...base, portsDomain: 'ports.dev.example.com' });
  assert.equal(set.portsDomain, 'ports.dev.example.com');
  for (const [field, value] of [
    ['portsDomain', 'Ports.Example.com'],
    ['portsDomain', 'ports.example.com:8443'],
    ['portsDomain', '.example.com'],
    ['terminalGraceMs', -1],
  ] as const) {
    await assert.rejects(
      resolveRunnerConfig({ ...base, [field]: value }),
      (error: unknown) =>
        error instanceof HangarError && (error.fields ?? []).some((entry) => entry.field === field),
      `${field}=${value}`,
    );
  }
});
