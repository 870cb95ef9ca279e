import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Environment } from '@hangar/api';
import { ProgressPrinter, settledOutcome } from './watch.js';

function environment(overrides: {
  phase?: Environment['status']['phase'];
  desired?: Environment['spec']['desiredPhase'];
  generation?: number;
  observed?: number;
  phaseChangedAt?: string;
  steps?: Environment['status']['steps'];
  conditions?: Environment['status']['conditions'];
}): Environment {
  return {
    id: 'env_0123456789abcdef',
    orgId: 'org_0123456789abcdef',
    ownerId: 'usr_0123456789abcdef',
    runnerId: 'run_0123456789abcdef',
    name: 'demo',
    generation: overrides.generation ?? 1,
    statusVersion: 1,
    spec: { class: 'small', desiredPhase: overrides.desired ?? 'running' },
    status: {
      phase: overrides.phase ?? 'creating',
      observedGeneration: overrides.observed ?? 1,
      conditions: overrides.conditions ?? [],
      steps: overrides.steps ?? [],
      phaseChangedAt: overrides.phaseChangedAt ?? '2024-05-01T12:00:00.000Z',
    },
    createdAt: '2024-05-01T12:00:00.000Z',
    updatedAt: '2024-05-01T12:00:00.000Z',
  };
}

const since = '2024-05-01T12:00:00.000Z';

describe('settledOutcome', () => {
  it('is reached only when the runner has seen the current spec', () => {
    const target = { target: 'running' as const, sinceTime: since };
    assert.equal(settledOutcome(environment({ phase: 'running' }), target), 'reached');
    assert.equal(
      settledOutcome(environment({ phase: 'running', generation: 2, observed: 1 }), target),
      undefined,
    );
    assert.equal(settledOutcome(environment({ phase: 'starting' }), target), undefined);
  });

  it('ignores a failure from before the request, not yet observed for the new spec', () => {
    const old = environment({
      phase: 'failed',
      generation: 2,
      observed: 1,
      phaseChangedAt: '2024-05-01T11:00:00.000Z',
    });
    assert.equal(settledOutcome(old, { target: 'running', sinceTime: since }), undefined);
    const observed = environment({ phase: 'failed', generation: 2, observed: 2 });
    assert.equal(settledOutcome(observed, { target: 'running', sinceTime: since }), 'failed');
    const swept = environment({
      phase: 'failed',
      generation: 2,
      observed: 1,
      phaseChangedAt: '2024-05-01T12:05:00.000Z',
    });
    assert.equal(settledOutcome(swept, { target: 'running', sinceTime: since }), 'failed');
  });

  it('ends when the environment is deleted or asked for another phase', () => {
    const deleted = environment({ phase: 'deleted', desired: 'deleted' });
    assert.equal(settledOutcome(deleted, { target: 'running', sinceTime: since }), 'deleted');
    assert.equal(settledOutcome(deleted, { target: 'deleted', sinceTime: since }), 'reached');
    const other = environment({ phase: 'stopping', desired: 'stopped', generation: 2 });
    assert.equal(settledOutcome(other, { target: 'running', sinceTime: since }), 'superseded');
  });
});

describe('ProgressPrinter', () => {
  it('prints each phase, step state and condition once, steps before a settled phase', () => {
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line));
    const startedAt = '2024-05-01T12:00:01.000Z';
    printer.show(environment({ phase: 'creating' }));
    printer.show(environment({ phase: 'creating' }));
    printer.show(
      environment({ phase: 'starting', steps: [{ name: 'clone', state: 'running', startedAt }] }),
    );
    printer.show(
      environment({
        phase: 'running',
        steps: [
          { name: 'clone', state: 'succeeded', startedAt, finishedAt: '2024-05-01T12:00:02.500Z' },
          { name: 'postCreateCommand', state: 'failed', startedAt, exitCode: 3 },
        ],
        conditions: [{ type: 'Limits', status: 'false', reason: 'NoCgroups', message: 'none' }],
      }),
    );
    assert.deepEqual(lines, [
      'demo: creating',
      'demo: starting',
      '  step clone: running',
      '  step clone: succeeded (1.5 s)',
      '  step postCreateCommand: failed, exit code 3',
      '  condition Limits=false: none',
      'demo: running',
    ]);
  });

  it('takes in the start silently when asked', () => {
    const lines: string[] = [];
    const printer = new ProgressPrinter((line) => lines.push(line));
    const steps = [{ name: 'clone', state: 'succeeded' as const, startedAt: since }];
    printer.show(environment({ phase: 'running', steps }), { silent: true });
    printer.show(environment({ phase: 'stopping', steps }));
    assert.deepEqual(lines, ['demo: stopping']);
  });
});
