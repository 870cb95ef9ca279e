import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HangarError } from '@hangar/api';
import {
  HOOK_RUNS,
  LIFECYCLE_HOOKS,
  hooksFor,
  planCommand,
  planHooks,
  skippedHostCommand,
  waitForHook,
  type CommandStep,
} from './lifecycle.js';
import type { LifecycleCommand } from './types.js';

/** Runs a planned step as a real process and returns what it printed. */
function run(step: CommandStep | undefined): string {
  assert.ok(step !== undefined);
  const [program, ...args] = step.argv;
  assert.ok(program !== undefined);
  const result = spawnSync(program, args, { env: { PATH: '/usr/bin:/bin', GREETING: 'hi' } });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.toString();
}

void test('the hooks are listed in the order they run, and when', () => {
  assert.deepStrictEqual(LIFECYCLE_HOOKS, [
    'onCreateCommand',
    'updateContentCommand',
    'postCreateCommand',
    'postStartCommand',
    'postAttachCommand',
  ]);
  assert.equal(HOOK_RUNS.postCreateCommand, 'oncePerEnvironment');
  assert.equal(HOOK_RUNS.postStartCommand, 'everyStart');
  assert.deepStrictEqual(hooksFor('create'), [
    'onCreateCommand',
    'updateContentCommand',
    'postCreateCommand',
    'postStartCommand',
  ]);
  assert.deepStrictEqual(hooksFor('start'), ['postStartCommand']);
  assert.deepStrictEqual(hooksFor('attach'), ['postAttachCommand']);
});

void test('a string command runs through /bin/sh -c', () => {
  const plan = planCommand('postCreateCommand', 'echo "$GREETING" && echo two');

  assert.deepStrictEqual(plan, {
    hook: 'postCreateCommand',
    parallel: false,
    steps: [
      { name: undefined, argv: ['/bin/sh', '-c', 'echo "$GREETING" && echo two'], viaShell: true },
    ],
  });
  assert.equal(run(plan.steps[0]), 'hi\ntwo\n');
});

void test('an array command is the argv itself, with no shell', () => {
  const plan = planCommand('onCreateCommand', ['echo', '$GREETING', '&&', 'x']);

  assert.deepStrictEqual(plan.steps, [
    { name: undefined, argv: ['echo', '$GREETING', '&&', 'x'], viaShell: false },
  ]);
  assert.equal(run(plan.steps[0]), '$GREETING && x\n');
});

void test('an object command plans named steps to run in parallel', () => {
  const plan = planCommand('updateContentCommand', {
    shell: 'echo "$GREETING"',
    argv: ['echo', 'a b'],
    blank: '  ',
    none: [],
  });

  assert.equal(plan.parallel, true);
  assert.deepStrictEqual(
    plan.steps.map((step) => [step.name, step.viaShell]),
    [
      ['shell', true],
      ['argv', false],
    ],
  );
  assert.equal(run(plan.steps[0]), 'hi\n');
  assert.equal(run(plan.steps[1]), 'a b\n');
});

void test('blank commands plan nothing', () => {
  assert.deepStrictEqual(planCommand('postCreateCommand', '').steps, []);
  assert.deepStrictEqual(planCommand('postCreateCommand', ' \n ').steps, []);
  assert.deepStrictEqual(planCommand('postCreateCommand', []).steps, []);
  assert.deepStrictEqual(planCommand('postCreateCommand', {}).steps, []);
  assert.deepStrictEqual(planCommand('postCreateCommand', undefined).steps, []);
});

void test('a command of the wrong shape is refused, naming the hook and entry', () => {
  const bad = [42, ['echo', 1], { a: 3 }, null] as unknown as LifecycleCommand[];
  for (const command of bad) {
    assert.throws(
      () => planCommand('postStartCommand', command),
      (error: unknown) =>
        error instanceof HangarError &&
        error.code === 'devcontainer_invalid' &&
        error.message.includes('postStartCommand'),
      JSON.stringify(command),
    );
  }
  assert.throws(() => planCommand('postStartCommand', { build: [true] } as never), /entry "build"/);
});

void test('planHooks keeps the order and drops hooks with nothing to run', () => {
  const config = {
    postStartCommand: 'echo start',
    postCreateCommand: ['make'],
    onCreateCommand: '',
    initializeCommand: 'echo host',
  };

  const create = planHooks(config, 'create').map((plan) => plan.hook);
  const start = planHooks(config, 'start').map((plan) => plan.hook);

  assert.deepStrictEqual(create, ['postCreateCommand', 'postStartCommand']);
  assert.deepStrictEqual(start, ['postStartCommand']);
});

void test('initializeCommand is never planned to run, only reported as skipped', () => {
  const config = { initializeCommand: ['/bin/bash', '-c', 'mkdir -p x'] };

  const skipped = skippedHostCommand(config);

  assert.equal(skipped?.hook, 'initializeCommand');
  assert.match(skipped?.reason ?? '', /runner host/);
  assert.deepStrictEqual(skipped?.plan.steps[0]?.argv, ['/bin/bash', '-c', 'mkdir -p x']);
  for (const event of ['create', 'start', 'attach'] as const) {
    assert.ok(planHooks(config, event).every((plan) => plan.hook !== 'initializeCommand'));
  }
  assert.equal(skippedHostCommand({}), null);
  assert.equal(skippedHostCommand({ initializeCommand: '' }), null);
});

void test('waitFor names the ready hook, by default updateContentCommand', () => {
  assert.equal(waitForHook({}), 'updateContentCommand');
  assert.equal(waitForHook({ waitFor: 'postStartCommand' }), 'postStartCommand');
  assert.equal(waitForHook({ waitFor: 'initializeCommand' }), 'updateContentCommand');
});
