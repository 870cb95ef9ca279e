import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelServer } from '@hangar/agent/testing/model-server.js';
import type { Environment } from '@hangar/api';
import { agentHarness, modelFlags, taskIdOf, until, type AgentHarness } from '../support/agents.js';
import { hangar } from '../support/cli.js';
import { repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

// Stops and limits of real agent tasks on a real environment. Every wait below is bounded far
// under the 600 s a `sleep 600` runs: a task that ended and a sleep that is gone within the bound
// were ended by the stop or limit, not by the sleep running out. The times are diagnostics.
const boundMs = 60_000;

let system: System;
let model: ModelServer;
let environment: Environment;
let env: NodeJS.ProcessEnv;
let agents: AgentHarness;

before(async () => {
  system = await startSystem();
  model = await ModelServer.start();
  agents = agentHarness(system);
  env = {
    HANGAR_URL: system.cp.url,
    HANGAR_TOKEN: system.token,
    HANGAR_HOME: join(system.dir, 'cli'),
  };
  const repo = await repository(system.dir, 'limits', {
    files: { 'README.md': '# limits\n', 'notes.txt': 'nothing yet\n' },
  });
  environment = await system.createAndWait({ repository: { url: repo.dir } });
});

after(async () => {
  await system?.close();
  await model?.close();
});

/** Starts a task without following it; resolves with its id. */
async function startTask(flags: string[], prompt = 'do the work'): Promise<string> {
  const run = await hangar(
    ['agent', 'run', '--env', environment.name, ...modelFlags(model), ...flags, prompt],
    env,
  );
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  return taskIdOf(run);
}

/** Waits until a process whose command line matches `pattern` runs in the environment. */
async function running(pattern: string, count = 1): Promise<void> {
  await until(
    `${count} process(es) matching ${pattern}`,
    async () =>
      (await agents.processes(environment.id, pattern)).length >= count ? true : undefined,
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** Waits, within the bound, until the task has ended and no process matches `pattern`. */
async function endedAndGone(taskId: string, pattern: string) {
  return until(
    `task ${taskId} ending with no process matching ${pattern} left`,
    async () => {
      const task = await agents.task(taskId);
      if (!['succeeded', 'failed', 'cancelled', 'limit_reached'].includes(task.state)) return;
      const left = await agents.processes(environment.id, pattern);
      return left.length === 0 ? task : undefined;
    },
    { timeoutMs: boundMs },
  );
}

test(
  'agent stop during sleep 600 ends the task and its command',
  { timeout: 120_000 },
  async (t) => {
    model.push({ toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 600' } }] });
    // The command timeout is longer than the sleep: only the stop can end it.
    const id = await startTask(['--command-timeout', '20m'], 'wait a while');
    await running('^sleep 600$');
    const stop = await hangar(['agent', 'stop', id], env);
    assert.equal(stop.code, 0, stop.stderr);
    const { value: task, elapsedMs } = await endedAndGone(id, 'sleep 600');
    t.diagnostic(`stop to cancelled with the sleep gone: ${elapsedMs} ms`);
    assert.equal(task.state, 'cancelled');
    assert.equal(task.reason, 'stopped');
  },
);

test(
  'agent stop of a command-line agent kills its process group and cancels the task',
  { timeout: 120_000 },
  async (t) => {
    // The program leaves a child in the background: it is in the same process group.
    const id = await startTask(
      ['--command', "sh -c 'sleep 600 & sleep 600; wait'", '--prompt-on', 'stdin'],
      'wait a while',
    );
    await running('^sleep 600$', 2);
    const stop = await hangar(['agent', 'stop', id], env);
    assert.equal(stop.code, 0, stop.stderr);
    const { value: task, elapsedMs } = await endedAndGone(id, 'sleep 600');
    t.diagnostic(`stop to cancelled with the program and its child gone: ${elapsedMs} ms`);
    assert.equal(task.kind, 'command');
    assert.equal(task.state, 'cancelled');
  },
);

test('maxSteps ends a real task in limit_reached naming it', { timeout: 60_000 }, async () => {
  model.push(
    { toolCalls: [{ name: 'list_directory', arguments: { path: '.' } }] },
    { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] },
  );
  const sent = model.requests.length;
  const id = await startTask(['--max-steps', '2']);
  const task = await agents.finalTask(id);
  assert.equal(task.state, 'limit_reached');
  assert.equal(task.reason, 'maxSteps');
  assert.equal(task.steps, 2);
  assert.equal(model.requests.length - sent, 2, 'no third model turn');
});

test(
  'maxWallTimeS ends a loop task whose command keeps running, and a command-line agent',
  { timeout: 120_000 },
  async (t) => {
    model.push({ toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 602' } }] });
    // Both at once: each waits out its 10 s.
    const loopId = await startTask(['--max-time', '10s', '--command-timeout', '20m']);
    const commandId = await startTask(['--max-time', '10s', '--command', 'sleep 603']);
    await running('^sleep 60[23]$', 2);
    const [loop, command] = await Promise.all([
      endedAndGone(loopId, '^sleep 602$'),
      endedAndGone(commandId, '^sleep 603$'),
    ]);
    t.diagnostic(
      `after both ran: loop ended in ${loop.elapsedMs} ms, command ${command.elapsedMs} ms`,
    );
    assert.equal(loop.value.state, 'limit_reached');
    assert.equal(loop.value.reason, 'maxWallTimeS');
    assert.equal(command.value.kind, 'command');
    assert.equal(command.value.state, 'limit_reached');
    assert.equal(command.value.reason, 'maxWallTimeS');
  },
);

test(
  'commandTimeoutS kills a command: the model is told and the task goes on',
  { timeout: 60_000 },
  async () => {
    model.push(
      { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 604' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'the sleep was cut short' } }] },
    );
    const sent = model.requests.length;
    const id = await startTask(['--command-timeout', '2s']);
    const { value: task } = await endedAndGone(id, 'sleep 604');
    assert.equal(task.state, 'succeeded', 'the task went on after the command was killed');
    assert.equal(task.steps, 2);
    const told = JSON.stringify(model.requests[sent + 1]?.body.messages);
    assert.match(told, /killed after its 2 s timeout/);
  },
);
