import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ModelServer } from '@hangar/agent/testing/model-server.js';
import type { AgentTask, Environment } from '@hangar/api';
import {
  assertAccessible,
  assertClean,
  launchBrowser,
  openPage,
  screenshot,
  signInWithToken,
  type WatchedPage,
} from '../support/browser.js';
import { repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

let system: System;
let browser: Browser;
let model: ModelServer;
let environment: Environment;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(
  async () => {
    system = await startSystem();
    model = await ModelServer.start();
    browser = await launchBrowser();
    const policy = await system.api('PATCH', '/v1/org/policy', {
      agents: { writablePaths: ['add.js'], deniedCommandPatterns: ['\\bsudo\\b'] },
      egress: { agents: { mode: 'allowlist', allow: [{ host: 'models.internal.invalid' }] } },
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    const repo = await repository(system.dir, 'calculator', {
      files: {
        'add.js': 'module.exports = (a, b) => a - b;\n',
        'test.js':
          "const add = require('./add.js');\n" +
          "if (add(2, 3) !== 5) { console.error('FAIL: add(2, 3) is ' + add(2, 3)); " +
          'process.exit(1); }\n' +
          "process.stdout.write('all tests pass\\n');\n",
      },
    });
    environment = await system.createAndWait({ name: 'calc', repository: { url: repo.dir } });
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  await model?.close();
  await system?.close();
});

/** Every request body the page sent to the control plane (not to the runner's gateway). */
function controlPlaneBodies(page: Page): string[] {
  const bodies: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(system.cp.url)) bodies.push(request.postData() ?? '');
  });
  return bodies;
}

async function startFromPage(page: Page, prompt: string, maxSteps: string): Promise<string> {
  await page.getByRole('link', { name: 'Agents', exact: true }).click();
  await page.getByRole('heading', { name: 'Start a task' }).waitFor();
  await page.getByLabel('Environment', { exact: true }).selectOption({ label: 'calc' });
  await page.getByLabel('Prompt (sent to the runner only)').fill(prompt);
  await page.getByLabel('API', { exact: true }).selectOption('openai');
  await page.getByLabel('Base URL', { exact: true }).fill(model.openaiBaseUrl);
  await page.getByLabel('Model name', { exact: true }).fill('scripted-coder');
  await page.getByLabel('Max steps (model turns)').fill(maxSteps);
  await page.getByRole('button', { name: 'Start task' }).click();
  await page.waitForURL(/\/agents\/agt_[A-Za-z0-9_-]+$/);
  const id = new URL(page.url()).pathname.split('/').at(-1);
  assert.ok(id);
  await page.getByRole('heading', { name: `Agent task ${id}` }).waitFor();
  return id;
}

async function apiTask(id: string): Promise<AgentTask> {
  const { status, body } = await system.api<AgentTask>('GET', `/v1/agent-tasks/${id}`);
  assert.equal(status, 200);
  return body;
}

const countCell = (page: Page, name: string) => page.locator(`tr[data-count="${name}"] td`).first();

async function sleepRuns(): Promise<boolean> {
  const result = await system.exec(environment.id, ['sh', '-c', 'pgrep -x sleep || true']);
  return result.out.toString().trim() !== '';
}

test(
  'start a task in the page, watch its tool calls and results arrive, see it succeed',
  { timeout: 180_000 },
  async () => {
    const watched: WatchedPage = await openPage(browser);
    const { page } = watched;
    const sentToControlPlane = controlPlaneBodies(page);
    await signInWithToken(page, system.cp.url, system.token);

    const summary = 'add now adds';
    model.push(
      {
        text: 'Reading the code first.',
        toolCalls: [{ name: 'read_file', arguments: { path: 'add.js' } }],
      },
      {
        toolCalls: [
          {
            name: 'replace_in_file',
            arguments: { path: 'add.js', old_text: '(a, b) => a - b', new_text: '(a, b) => a + b' },
          },
        ],
      },
      // The pause keeps this call waiting for a while, so the page shows it before its result.
      { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 3; node test.js' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary } }] },
    );
    const prompt = 'The tests fail (node test.js); fix add.js. prompt-canary-61be0a';
    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    await page.getByText('No agent tasks yet.').waitFor();
    await assertAccessible(page, 'agents, empty');
    await screenshot(page, 'web-agents-start-form');
    const id = await startFromPage(page, prompt, '10');

    const transcript = page.getByRole('log');
    const run = transcript.locator('[data-tool="run_command"]');
    await run.getByText('Waiting for the result…').waitFor({ timeout: 60_000 });
    // While the command runs, the earlier calls already show their results.
    const read = transcript.locator('[data-tool="read_file"]');
    await read.getByText('module.exports = (a, b) => a - b;').waitFor();
    assert.equal(
      await transcript.locator('[data-tool="replace_in_file"] .result').count(),
      1,
      'the edit shows its result',
    );
    assert.equal(await countCell(page, 'Steps').textContent(), '3', 'the counts move live');
    assert.equal(await countCell(page, 'Tool calls').textContent(), '2');
    assert.notEqual((await apiTask(id)).state, 'succeeded', 'all this showed while it ran');
    await screenshot(page, 'web-agents-task-running');

    await run.getByText('all tests pass').waitFor({ timeout: 60_000 });
    await page.locator('.task-state [data-state="succeeded"]').waitFor({ timeout: 30_000 });
    await transcript.locator('[data-entry="end"]').getByText(summary).waitFor();
    await page.getByRole('status').getByText('The whole transcript is shown.').waitFor();
    const task = await apiTask(id);
    assert.equal(task.state, 'succeeded');
    assert.equal(task.steps, 4);
    assert.equal(await countCell(page, 'Steps').textContent(), '4');
    assert.equal(await countCell(page, 'Tool calls').textContent(), '3');
    assert.equal(await countCell(page, 'Malformed model outputs').textContent(), '0');
    assert.equal(
      await countCell(page, 'Tokens in').textContent(),
      String(task.inputTokens),
      'the counts are the control plane record',
    );
    assert.equal(await page.getByRole('button', { name: 'Stop task' }).count(), 0);
    await assertAccessible(page, 'agent task, succeeded');
    await screenshot(page, 'web-agents-task-succeeded');
    // At 200% zoom a 1280-pixel window is 640 CSS pixels wide: the page still fits it.
    await page.setViewportSize({ width: 640, height: 900 });
    const overflowPx = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    assert.ok(overflowPx <= 0, `the page is ${overflowPx} pixels wider than the window`);
    await screenshot(page, 'web-agents-task-narrow');
    await page.setViewportSize({ width: 1280, height: 720 });

    await page.getByRole('link', { name: 'All agent tasks' }).click();
    await page.locator(`tr[data-task="${id}"] [data-state="succeeded"]`).waitFor();
    await assertAccessible(page, 'agents, one task');
    await screenshot(page, 'web-agents-list');

    const fixed = await system.exec(environment.id, ['node', 'test.js']);
    assert.equal(fixed.exitCode, 0, 'the edit the agent made is in the environment');
    for (const body of sentToControlPlane) {
      assert.ok(!body.includes('prompt-canary-61be0a'), 'the control plane never sees the prompt');
    }
    assert.ok(
      sentToControlPlane.some((body) => body.includes('"promptSha256"')),
      'the control plane got the digest',
    );
    assertClean(watched);
    await page.context().close();
  },
);

test('stop a task that runs sleep 600 from its page', { timeout: 120_000 }, async () => {
  const watched = await openPage(browser);
  const { page } = watched;
  await signInWithToken(page, system.cp.url, system.token);
  model.push({ toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 600' } }] });
  const id = await startFromPage(page, 'wait a while', '5');

  const run = page.getByRole('log').locator('[data-tool="run_command"]');
  await run.getByText('Waiting for the result…').waitFor({ timeout: 60_000 });
  for (let i = 0; i < 200 && !(await sleepRuns()); i += 1) await sleep(50);
  assert.ok(await sleepRuns(), 'the command runs');
  await page.locator('.task-state [data-state="running"]').waitFor();
  await assertAccessible(page, 'agent task, running');
  await screenshot(page, 'web-agents-task-sleeping');

  await page.getByRole('button', { name: 'Stop task' }).click();
  await page.locator('.task-state [data-state="cancelled"]').waitFor({ timeout: 60_000 });
  assert.equal((await apiTask(id)).state, 'cancelled');
  assert.equal(await sleepRuns(), false, 'the sleep is gone');
  await page.getByRole('log').locator('[data-entry="end"] [data-state="cancelled"]').waitFor();
  await assertAccessible(page, 'agent task, cancelled');
  await screenshot(page, 'web-agents-task-cancelled');
  assertClean(watched);
  await page.context().close();
});
