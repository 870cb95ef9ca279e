import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentTaskFixture } from '../testing/agent-fixtures.js';
import { environmentFixture } from '../testing/fixtures.js';
import { assertLabelled, ignore, markup } from '../testing/markup.js';
import { AgentsView, type AgentsData, type AgentsViewProps } from './AgentsView.js';
import {
  StartAgentTaskForm,
  startRequestOf,
  type StartAgentTaskFormProps,
} from './StartAgentTaskForm.js';
import { agentTools } from '../agent-tasks.js';
import type { LoadState } from '../load.js';

const me = 'usr_aaaaaaaaaaaaaaaa';
const start = {
  organizationModel: undefined,
  allowedTools: undefined,
  busy: false,
  error: null,
  onStart: ignore,
};

function page(data: LoadState<AgentsData>, extra: Partial<AgentsViewProps> = {}): string {
  return markup(<AgentsView data={data} userId={me} start={start} {...extra} />);
}

const ready = (data: Partial<AgentsData>): LoadState<AgentsData> => ({
  kind: 'ready',
  data: { tasks: [], environments: [], ...data },
});

function form(extra: Partial<StartAgentTaskFormProps> = {}): string {
  return markup(
    <StartAgentTaskForm
      environments={[environmentFixture('alpha', 'running')]}
      {...start}
      {...extra}
    />,
  );
}

test('agents: loading, error and empty states', () => {
  const loading = page({ kind: 'loading' });
  assert.match(loading, /role="status">Loading agent tasks…</);
  assert.match(loading, /role="status">Loading your environments…</);
  const failed = page({ kind: 'error', message: 'the control plane answered 503' });
  assert.equal(failed.match(/role="alert"/g)?.length, 1, 'the failure is announced once');
  assert.match(failed, /role="alert">Could not load agent tasks: the control plane answered 503/);
  assert.doesNotMatch(failed, /<table|<form/);
  const empty = page(ready({}));
  assert.match(empty, /role="status">No agent tasks yet.</);
  assert.match(empty, /none runs now.*<a href="\/">Environments<\/a>/s);
  assert.doesNotMatch(empty, /<form/);
});

test('agents: each task shows its state, environment, model, counts and times', () => {
  const alpha = environmentFixture('alpha', 'running');
  const older = {
    ...agentTaskFixture('older', 'succeeded'),
    createdAt: '2026-12-03T10:00:00.000Z',
  };
  const running = agentTaskFixture('newer', 'running');
  const html = page(ready({ tasks: [older, running], environments: [alpha] }));
  assert.match(html, /<caption>Agent tasks<\/caption>/);
  const rows = [...html.matchAll(/<tr data-task="([^"]+)"/g)].map((match) => match[1]);
  assert.deepEqual(rows, [running.id, older.id], 'newest first');
  assert.match(html, /<th scope="row"><a href="\/agents\/agt_newer[a]+">agt_newer[a]+<\/a><\/th>/);
  assert.match(html, /data-state="running">running</);
  assert.match(html, /data-state="succeeded">succeeded</);
  assert.match(html, /<a href="\/environments\/env_alpha[a]+">alpha<\/a>/);
  assert.match(
    html,
    new RegExp(
      '<td>scripted-coder</td><td>4 of 50</td>' +
        '<td>1280 of 500000<span class="detail"> \\(1200 in, 80 out\\)',
    ),
  );
  assert.match(html, /<td>running<\/td><\/tr>/);
  assert.match(html, /<time dateTime="2026-12-04T10:00:31.000Z"/);
});

test('agents: the form offers only my running environments, and every control is labelled', () => {
  const mine = environmentFixture('alpha', 'running');
  const stopped = environmentFixture('beta', 'stopped');
  const theirs = { ...environmentFixture('gamma', 'running'), ownerId: 'usr_bbbbbbbbbbbbbbbb' };
  const html = page(ready({ environments: [mine, stopped, theirs] }));
  assert.match(html, /<h2 id="[^"]+">Start a task<\/h2>/);
  assert.match(html, /<option value="env_alpha[a]+">alpha<\/option>/);
  assert.doesNotMatch(html, />beta<|>gamma</);
  assert.match(html, /<textarea id="[^"]+" name="prompt" rows="6" required="">/);
  for (const tool of agentTools) assert.match(html, new RegExp(`checked="" value="${tool}"`));
  assert.match(html, /name="modelSource" value="custom"/);
  assert.match(html, /type="url" required="" name="modelUrl"/);
  assert.match(html, /<legend>Limits \(empty: the default\)<\/legend>/);
  assertLabelled(html);
});

test('agents: a role that cannot start tasks sees the list only', () => {
  const html = page(ready({ environments: [environmentFixture('alpha', 'running')] }), {
    start: null,
  });
  assert.doesNotMatch(html, /Start a task|<form/);
  assert.match(html, /No agent tasks yet/);
});

test('start form: the organization model comes first; the policy limits the tools', () => {
  const html = form({
    organizationModel: { api: 'anthropic', baseUrl: 'http://127.0.0.1:1', model: 'org-model' },
    allowedTools: ['read_file', 'finish'],
  });
  assert.match(html, /name="modelSource" checked="" value="organization"/);
  assert.match(html, /The organization&#x27;s model: org-model \(anthropic\)/);
  assert.doesNotMatch(html, /name="modelUrl"/, 'no custom fields until another model is chosen');
  assert.match(html, /checked="" value="read_file"/);
  assert.doesNotMatch(html, /value="run_command"/);
  assertLabelled(html);
});

test('start form: busy, and errors announced (with the task a failed start left)', () => {
  assert.match(form({ busy: true }), /disabled="">Starting…</);
  const refused = form({ error: { message: 'tools: write_file is not allowed' } });
  assert.match(refused, /role="alert">tools: write_file is not allowed</);
  const half = form({
    error: { message: 'the runner did not take the prompt: gone', taskId: 'agt_halfaaaaaaaaaaaa' },
  });
  assert.match(
    half,
    /The task exists without its prompt: <a href="\/agents\/agt_halfaaaaaaaaaaaa">stop it<\/a>/,
  );
});

function formData(fields: Record<string, string | string[]>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) data.append(name, item);
  }
  return data;
}

test('start form: reads a request; empty limits and all tools are left to the defaults', () => {
  const base = {
    environmentId: 'env_alphaaaaaaaaaaaa',
    prompt: '  fix it\n',
    modelSource: 'custom',
    modelApi: 'openai',
    modelUrl: ' http://127.0.0.1:8000/v1 ',
    modelName: 'qwen',
    modelKeySecret: '',
    maxSteps: '',
    maxTokens: '',
    maxWallTimeS: '',
    commandTimeoutS: '',
    tools: [...agentTools],
  };
  assert.deepEqual(startRequestOf(formData(base), agentTools), {
    ok: true,
    request: {
      prompt: '  fix it\n',
      body: {
        environmentId: 'env_alphaaaaaaaaaaaa',
        model: { api: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen' },
      },
    },
  });
  const chosen = startRequestOf(
    formData({
      ...base,
      modelKeySecret: 'model-key',
      maxSteps: '8',
      commandTimeoutS: '30',
      tools: ['read_file', 'finish'],
    }),
    agentTools,
  );
  assert.ok(chosen.ok);
  assert.deepEqual(chosen.request.body.model?.keySecret, 'model-key');
  assert.deepEqual(chosen.request.body.limits, { maxSteps: 8, commandTimeoutS: 30 });
  assert.deepEqual(chosen.request.body.tools, ['read_file', 'finish']);
  const organization = startRequestOf(
    formData({ ...base, modelSource: 'organization' }),
    agentTools,
  );
  assert.ok(organization.ok);
  assert.equal(organization.request.body.model, undefined);
});

test('start form: what it refuses, and why', () => {
  const base = {
    environmentId: 'env_alphaaaaaaaaaaaa',
    prompt: 'fix it',
    modelSource: 'organization',
    tools: ['finish'],
  };
  const refusal = (fields: Record<string, string | string[]>) => {
    const read = startRequestOf(formData({ ...base, ...fields }), agentTools);
    return read.ok ? '' : read.message;
  };
  assert.match(refusal({ prompt: '  \n' }), /Write a prompt/);
  assert.match(refusal({ environmentId: '' }), /Choose an environment/);
  assert.match(
    refusal({ modelSource: 'custom', modelApi: 'openai', modelUrl: '' }),
    /base URL and name/,
  );
  assert.match(
    refusal({ maxSteps: '2.5' }),
    /Max steps \(model turns\) must be a whole number above 0/,
  );
  assert.match(refusal({ maxTokens: '0' }), /Max tokens/);
  assert.match(refusal({ tools: [] }), /at least one tool/);
  assert.match(refusal({ tools: ['rm_rf'] }), /at least one tool/);
});
