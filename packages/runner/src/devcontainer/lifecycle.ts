import { HangarError } from '@hangar/api';
import { isPlainObject } from './json-tree.js';
import type { DevcontainerConfig, LifecycleCommand } from './types.js';

/** The hooks Hangar runs inside the environment, in the order they run. */
export const LIFECYCLE_HOOKS = [
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;

export type LifecycleHook = (typeof LIFECYCLE_HOOKS)[number];

/**
 * The hook that runs on the host before the environment exists. Hangar never runs it: it would
 * run repository code on the runner host. `skippedHostCommand` says when a config has one.
 */
export const HOST_HOOK = 'initializeCommand';

export type HookRuns = 'oncePerEnvironment' | 'everyStart' | 'everyAttach';

export const HOOK_RUNS: Readonly<Record<LifecycleHook, HookRuns>> = {
  onCreateCommand: 'oncePerEnvironment',
  updateContentCommand: 'oncePerEnvironment',
  postCreateCommand: 'oncePerEnvironment',
  postStartCommand: 'everyStart',
  postAttachCommand: 'everyAttach',
};

/** `create` is the first start of a new environment; `start` each later one. */
export type LifecycleEvent = 'create' | 'start' | 'attach';

/** The hooks to run for an event, in order: creating also starts, so it ends with postStart. */
export function hooksFor(event: LifecycleEvent): LifecycleHook[] {
  if (event === 'attach') return ['postAttachCommand'];
  const runs: HookRuns[] =
    event === 'create' ? ['oncePerEnvironment', 'everyStart'] : ['everyStart'];
  return LIFECYCLE_HOOKS.filter((hook) => runs.includes(HOOK_RUNS[hook]));
}

/** The shell a string command runs in. */
export const SHELL_ARGV: readonly string[] = ['/bin/sh', '-c'];

/** One process to start: `argv[0]` is the program, no shell unless `viaShell`. */
export interface CommandStep {
  /** The entry's name in the object form, shown in the log; undefined for the other forms. */
  name: string | undefined;
  argv: string[];
  viaShell: boolean;
}

export interface HookPlan {
  hook: LifecycleHook | typeof HOST_HOOK;
  /** True for the object form: every step starts at once and the hook waits for all. */
  parallel: boolean;
  /** Empty when the command is blank: nothing to run. */
  steps: CommandStep[];
}

function invalid(hook: string, name: string | undefined, what: string): HangarError {
  const subject = name === undefined ? hook : `${hook} entry ${JSON.stringify(name)}`;
  const message =
    `The ${subject} of devcontainer.json ${what}; write a string, an array of strings, ` +
    'or an object of named commands.';
  return new HangarError('devcontainer_invalid', message, { details: { field: hook } });
}

function stepOf(hook: string, name: string | undefined, command: unknown): CommandStep | null {
  if (typeof command === 'string') {
    if (command.trim() === '') return null;
    return { name, argv: [...SHELL_ARGV, command], viaShell: true };
  }
  if (!Array.isArray(command)) throw invalid(hook, name, 'is neither a string nor an array');
  if (!command.every((arg): arg is string => typeof arg === 'string')) {
    throw invalid(hook, name, 'has an argument that is not a string');
  }
  if (command.length === 0) return null;
  return { name, argv: [...command], viaShell: false };
}

/**
 * Turns one lifecycle command into processes to start: a string runs through `/bin/sh -c`, an
 * array is the argv itself with no shell, an object's entries run in parallel, each a string or
 * an array. A blank string or an empty array plans no step.
 */
export function planCommand(
  hook: LifecycleHook | typeof HOST_HOOK,
  command: LifecycleCommand | undefined,
): HookPlan {
  if (command === undefined) return { hook, parallel: false, steps: [] };
  if (isPlainObject(command)) {
    const steps: CommandStep[] = [];
    for (const [name, entry] of Object.entries(command)) {
      const step = stepOf(hook, name, entry);
      if (step !== null) steps.push(step);
    }
    return { hook, parallel: true, steps };
  }
  const step = stepOf(hook, undefined, command);
  return { hook, parallel: false, steps: step === null ? [] : [step] };
}

/** The plans with something to run for an event, in order. */
export function planHooks(config: DevcontainerConfig, event: LifecycleEvent): HookPlan[] {
  return hooksFor(event)
    .map((hook) => planCommand(hook, config[hook]))
    .filter((plan) => plan.steps.length > 0);
}

export interface SkippedHostCommand {
  hook: typeof HOST_HOOK;
  reason: string;
  plan: HookPlan;
}

/** The config's `initializeCommand`, which Hangar does not run, for the runner to report. */
export function skippedHostCommand(config: DevcontainerConfig): SkippedHostCommand | null {
  const plan = planCommand(HOST_HOOK, config.initializeCommand);
  if (plan.steps.length === 0) return null;
  const reason =
    'initializeCommand runs on the host in the reference tool; Hangar skips it so that no ' +
    'repository code runs on the runner host';
  return { hook: HOST_HOOK, reason, plan };
}

/** The hook after which the environment counts as ready; the spec's default is updateContent. */
export function waitForHook(config: DevcontainerConfig): LifecycleHook {
  const value = config.waitFor;
  const known = LIFECYCLE_HOOKS.find((hook) => hook === value);
  return known ?? 'updateContentCommand';
}
