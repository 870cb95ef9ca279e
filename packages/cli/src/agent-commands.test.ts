import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ModelServer, type ScriptedTurn } from '@hangar/agent/testing/model-server.js';
import type { AgentTask, AuditRecord } from '@hangar/api';
import {
  bootstrapOwner,
  createLogger,
  startControlPlane,
  type ControlPlane,
} from '@hangar/control-plane';
import type { RunningRunner } from '@hangar/runner';
import { HttpClient } from './http-client.js';
import { type CaptureOptions, runMain } from './testing/capture-io.js';
import type { TestControlPlane } from './testing/control-plane.js';
import { startTestRunner } from './testing/runner.js';

const run$ = promisify(execFile);

/** A phrase that must reach the model through the runner and nothing of the control plane. */
const canary = 'canary-prompt-4f9c1e: list the workspace, then finish';

let cp: TestControlPlane & { logLines: string[]; control: ControlPlane };
let runner: RunningRunner;
let model: ModelServer;
let root: string;
let api: HttpClient;

/** A control plane like the shared fixture's, but keeping every log line at debug level. */
async function loggedControlPlane() {
  const dataDir = await mkdtemp(join(tmpdir(), 'hangar-cli-agent-cp-'));
  const logLines: string[] = [];
  const control = await startControlPlane(
    { dataDir, port: 0, logLevel: 'debug' },
    {
      logger: createLogger({
        level: 'debug',
        destination: { write: (line: string) => logLines.push(line) },
      }),
    },
  );
  const owner = await bootstrapOwner(control.context, { orgName: 'test', tokenTtlS: 86400 });
  return {
    cp: control,
    control,
    url: control.url,
    dataDir,
    token: owner.token,
    orgId: owner.orgId,
    userId: owner.userId,
    env: { HANGAR_URL: control.url, HANGAR_TOKEN: owner.token },
    logLines,
    async close() {
      await control.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-cli-agent-'));
  await chmod(root, 0o755);
  model = await ModelServer.start();
  cp = await loggedControlPlane();
  api = new HttpClient({ baseUrl: cp.url, token: cp.token, service: 'control plane' });
  runner = await startTestRunner(cp, { name: 'agents', dataDir: join(root, 'runner') });
  const created = await run(['env', 'create', '--name', 'work', '--wait']);
  assert.equal(created.code, 0, created.stderr);
});

after(async () => {
  for (const name of ['work', 'fresh']) {
    await run(['env', 'delete', name, '--wait']).catch(() => undefined);
  }
  await runner?.close();
  await cp?.close();
  await model?.close();
  await rm(root, { recursive: true, force: true });
});

function run(argv: string[], options: CaptureOptions = {}) {
  return runMain(argv, { env: cp.env, cwd: root, ...options });
}

const modelFlags = () => [
  '--model',
  'scripted',
  '--model-api',
  'openai',
  '--model-url',
  model.openaiBaseUrl,
];

function call(name: string, args: unknown): ScriptedTurn {
  return { toolCalls: [{ name, arguments: args }], usage: { inputTokens: 50, outputTokens: 5 } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForTask(id: string, done: (task: AgentTask) => boolean): Promise<AgentTask> {
  for (let i = 0; i < 600; i += 1) {
    const task = await api.get<AgentTask>(`/v1/agent-tasks/${id}`);
    if (done(task)) return task;
    await sleep(50);
  }
  const last = await api.get<AgentTask>(`/v1/agent-tasks/${id}`);
  throw new Error(`agent task ${id} never got there: ${JSON.stringify(last)}`);
}

/** Every file under `dir`, as bytes (the database, its journal, keys, anything else). */
async function filesUnder(dir: string): Promise<Buffer[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile());
  return Promise.all(files.map((entry) => readFile(join(entry.parentPath, entry.name))));
}

async function tableText(): Promise<string> {
  const db = cp.control.context.db;
  const tables = await db.query<{ name: string }>(
    `SELECT name FROM sqlite_master WHERE type = 'table'`,
  );
  const dumps: string[] = [];
  for (const { name } of tables) {
    dumps.push(JSON.stringify(await db.query(`SELECT * FROM "${name}"`)));
  }
  return dumps.join('\n');
}

describe('agent commands against a real control plane, runner and model server', () => {
  it('run --follow: the prompt reaches the model, only its digest the control plane', async () => {
    model.push(call('list_directory', { path: '.' }), call('finish', { summary: 'Listed it.' }));
    const result = await run(['agent', 'run', '--env', 'work', ...modelFlags(), '-f', canary]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^> list_directory \{"path":"\."\}$/m);
    assert.match(result.stdout, /^ {2}< list_directory ok/m);
    assert.match(result.stdout, /^= succeeded/m);
    assert.match(result.stdout, /Listed it\./);
    assert.match(result.stderr, /agent task agt_\w+ succeeded/);

    const sent = JSON.stringify(model.requests[0]?.body ?? {});
    assert.ok(sent.includes(canary), 'the model got the prompt');
    const digest = createHash('sha256').update(canary, 'utf8').digest('hex');
    const { agentTasks } = await api.get<{ agentTasks: AgentTask[] }>('/v1/agent-tasks');
    const task = agentTasks[0];
    assert.equal(task?.promptSha256, digest);
    assert.equal(task?.state, 'succeeded');

    const { records } = await api.get<{ records: AuditRecord[] }>('/v1/audit/export');
    const created = records.find((record) => record.action === 'agent.task.create');
    assert.equal(created?.details.promptSha256, digest);
    const places = {
      'the audit log': JSON.stringify(records),
      'a table': await tableText(),
      'a log line': cp.logLines.join(''),
    };
    for (const [place, text] of Object.entries(places)) {
      assert.ok(!text.includes('canary-prompt-4f9c1e'), `the prompt is in ${place}`);
    }
    for (const bytes of await filesUnder(cp.dataDir)) {
      assert.ok(!bytes.includes('canary-prompt-4f9c1e'), 'the prompt is in a control plane file');
    }
  });

  it('agent list, get and logs show the task; logs --json gives one event per line', async () => {
    const listed = await run(['agent', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+STATE\s+MODEL/);
    const [id] = /agt_\w+/.exec(listed.stdout) ?? [];
    assert.ok(id, listed.stdout);
    assert.match(listed.stdout, /succeeded\s+scripted/);

    const shown = await run(['agent', 'get', id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^state:\s+succeeded$/m);
    assert.match(shown.stdout, /^prompt:\s+sha256 [0-9a-f]{64}$/m);
    assert.match(shown.stdout, /^summary:\s+sha256 [0-9a-f]{64}$/m);

    const logs = await run(['agent', 'logs', id]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^> list_directory/m);
    const events = await run(['agent', 'logs', id, '--json']);
    const lines = events.stdout.trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { type?: string });
    assert.ok(
      parsed.some((event) => event.type === 'end'),
      events.stdout,
    );

    const missing = await run(['agent', 'get', 'agt_0000000000000000']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error not_found/);
  });

  it('stop ends a task in the middle of a long command; a second stop is refused', async () => {
    model.push(call('run_command', { command: 'sleep 600' }));
    const started = await run(['agent', 'run', '--env', 'work', ...modelFlags(), '-'], {
      stdin: 'run a long command, please',
    });
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^agt_\w+$/);
    // The scripted turn was played: the loop is on its way into the command.
    await waitForTask(id, (task) => task.state === 'running' && model.remaining === 0);

    const stopped = await run(['agent', 'stop', id]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const followed = await run(['agent', 'logs', id, '-f']);
    assert.equal(followed.code, 1, 'a cancelled task is not a success');
    assert.match(followed.stderr, new RegExp(`agent task ${id} cancelled`));
    const ended = await waitForTask(id, (task) => task.state === 'cancelled');
    assert.ok(ended.endedAt);
    const again = await run(['agent', 'stop', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /error conflict: .*has already ended/);
  });

  it('agent run --repo waits for the fresh environment, then hands over the prompt', async () => {
    const repo = join(root, 'repo');
    await mkdir(repo);
    await writeFile(join(repo, 'README.md'), 'hello\n');
    const git = (...args: string[]) => run$('git', ['-C', repo, ...args]);
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-qm', 'init');
    model.push(call('read_file', { path: 'README.md' }), call('finish', { summary: 'Read it.' }));
    const result = await run([
      'agent',
      'run',
      '--repo',
      './repo',
      '--name',
      'fresh',
      ...modelFlags(),
      '--tool',
      'read_file',
      '--follow',
      '--json',
      'read the readme',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type?: string; result?: string });
    assert.ok(events.some((event) => event.type === 'tool' && /hello/.test(event.result ?? '')));
    const { agentTasks } = await api.get<{ agentTasks: AgentTask[] }>('/v1/agent-tasks');
    assert.deepEqual(agentTasks[0]?.tools, ['read_file']);
  });
});
