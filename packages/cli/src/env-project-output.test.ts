import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Environment } from '@hangar/api';
import { describeEnvironment } from './commands/env-get.js';
import { environmentTable } from './commands/env-list.js';

function environment(name: string, project: string | undefined): Environment {
  return {
    id: `env_${name.padEnd(16, 'x')}`,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    runnerId: 'run_aaaaaaaaaaaaaaaa',
    name,
    generation: 1,
    statusVersion: 1,
    spec: {
      class: 'small',
      desiredPhase: 'running',
      repository: { url: 'https://git.example.test/pay.git' },
      ...(project ? { project } : {}),
    },
    status: {
      phase: 'running',
      observedGeneration: 1,
      conditions: [],
      steps: [],
      phaseChangedAt: '2025-01-01T00:00:00.000Z',
    },
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

test('env get and env list show the project of each environment', () => {
  assert.ok(describeEnvironment(environment('pay', 'payments')).includes('project:     payments'));
  assert.ok(describeEnvironment(environment('solo', undefined)).includes('project:     (none)'));
  const rows = environmentTable(
    [environment('pay', 'payments'), environment('solo', undefined)],
    Date.parse('2025-01-02T00:00:00.000Z'),
  );
  assert.match(rows[0] ?? '', /^NAME +ID +PHASE +DESIRED +RUNNER +PROJECT +REPOSITORY +CREATED$/);
  assert.match(rows[1] ?? '', /^pay +env_\w+ +running +running +run_a+ +payments +https:/);
  assert.match(rows[2] ?? '', /^solo +env_\w+ +running +running +run_a+ +- +https:/);
});
