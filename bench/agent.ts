import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ModelServer } from '@hangar/agent/testing/model-server.js';
import type { AgentTask } from '@hangar/api';
import { readLines } from '@hangar/runner/agents/transcript.js';
import { execWith, type System } from '#test-support/system.js';
import { formatFigure, percentile, type Figure } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function figure(name: string, samples: number[]): Figure {
  return {
    name,
    runs: samples.length,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
  };
}

async function endedTask(system: System, id: string): Promise<AgentTask> {
  for (let i = 0; i < 1200; i += 1) {
    const { body } = await system.api<AgentTask>('GET', `/v1/agent-tasks/${id}`);
    if (!['queued', 'running'].includes(body.state)) return body;
    await sleep(50);
  }
  throw new Error(`agent task ${id} did not end`);
}

/**
 * The agent loop's own cost per tool call: from the moment the model's reply with the call was
 * sent in full to the moment the next request (carrying the result) arrived in full, minus the
 * command's own run time, against the same measure for a direct API exec in the same run.
 */
export async function agentBenchmarks(
  system: System,
  runs: number,
  print: (line: string) => void,
): Promise<void> {
  const environment = await system.createAndWait({ name: 'bench-agent' });
  const calls = runs + 1;
  const model = await ModelServer.start({
    turns: [
      // Each call differs (`true` ignores its argument): the loop refuses the same call repeated.
      ...Array.from({ length: calls }, (_, i) => ({
        toolCalls: [{ name: 'run_command', arguments: { command: `true ${i}` } }],
      })),
      { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }] },
    ],
  });
  try {
    const prompt = 'run true, again and again';
    const created = await system.api<AgentTask>('POST', '/v1/agent-tasks', {
      environmentId: environment.id,
      promptSha256: createHash('sha256').update(prompt).digest('hex'),
      model: { api: 'openai', baseUrl: model.openaiBaseUrl, model: 'bench' },
      tools: ['run_command'],
      limits: { maxSteps: calls + 5 },
    });
    if (created.status !== 201) throw new Error(`agent task: ${JSON.stringify(created.body)}`);
    const task = created.body;
    const grant = await system.grant(environment.id, ['agent']);
    for (let i = 0; ; i += 1) {
      const response = await fetch(`${grant.gatewayUrl}/v1/agent-tasks/${task.id}/prompt`, {
        method: 'POST',
        headers: { authorization: `Bearer ${grant.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt }),
      });
      if (response.ok) break;
      if (response.status !== 404 || i > 100) throw new Error(`prompt: ${await response.text()}`);
      await sleep(50);
    }
    const ended = await endedTask(system, task.id);
    if (ended.state !== 'succeeded') throw new Error(`the bench task ended ${ended.state}`);

    const lines = await readLines(
      join(system.dir, 'runner', 'agents', task.id, 'transcript.jsonl'),
    );
    const commandMs = lines
      .map((line) => JSON.parse(line) as { type: string; commandMs?: number })
      .filter((entry) => entry.type === 'tool')
      .map((entry) => entry.commandMs ?? 0);
    const agentSamples: number[] = [];
    // The first call warms up (the grant is fetched then).
    for (let i = 2; i <= calls; i += 1) {
      const answered = model.requests[i - 1]?.answeredAt;
      const next = model.requests[i]?.receivedAt;
      const command = commandMs[i - 1];
      if (answered === undefined || next === undefined || command === undefined) continue;
      agentSamples.push(next - answered - command);
    }

    const execGrant = await system.grant(environment.id, ['exec']);
    await execWith(execGrant, environment.id, ['/bin/sh', '-c', 'true']);
    const directSamples: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const started = performance.now();
      const result = await execWith(execGrant, environment.id, ['/bin/sh', '-c', 'true']);
      directSamples.push(performance.now() - started - result.durationMs);
    }
    const agent = figure('agent tool call, minus the command itself', agentSamples);
    const direct = figure('direct API exec, minus the command itself', directSamples);
    print(formatFigure(agent));
    print(formatFigure(direct));
    const own = agent.p50Ms - direct.p50Ms;
    print(
      `${"agent's own overhead per tool call (p50 diff)".padEnd(48)} ${own.toFixed(2)} ms ` +
        '(target < 5 ms)',
    );
  } finally {
    await model.close();
    await system.api('DELETE', `/v1/environments/${environment.id}`);
  }
}
