import type { AgentTask, AgentTaskState } from '../agent-tasks.js';
import type { TranscriptLine } from '../gateway.js';

/** An agent task as the API returns it, in `state`. */
export function agentTaskFixture(name: string, state: AgentTaskState): AgentTask {
  const ended = !['queued', 'running'].includes(state);
  return {
    id: `agt_${name.padEnd(16, 'a')}`,
    orgId: 'org_aaaaaaaaaaaaaaaa',
    ownerId: 'usr_aaaaaaaaaaaaaaaa',
    environmentId: 'env_alphaaaaaaaaaaaa',
    runnerId: 'run_aaaaaaaaaaaaaaaa',
    state,
    model: 'scripted-coder',
    kind: 'loop',
    tools: ['run_command', 'read_file', 'finish'],
    limits: { maxSteps: 50, maxTokens: 500000, maxWallTimeS: 3600, commandTimeoutS: 600 },
    steps: 4,
    inputTokens: 1200,
    outputTokens: 80,
    promptSha256: 'a'.repeat(64),
    createdAt: '2026-12-04T10:00:00.000Z',
    startedAt: '2026-12-04T10:00:01.000Z',
    ...(ended ? { endedAt: '2026-12-04T10:00:31.000Z' } : {}),
  };
}

const at = (second: number) => `2026-12-04T10:00:${String(second).padStart(2, '0')}.000Z`;

/** A transcript with one entry of every kind, in the order a runner could write them. */
export const transcriptFixture: TranscriptLine[] = [
  { time: at(1), type: 'prompt', text: 'Fix the failing test in test.js' },
  {
    time: at(2),
    type: 'model',
    step: 1,
    text: 'Looking at the code.',
    toolCalls: [
      { id: 'call_1', name: 'read_file', arguments: '{"path":"add.js"}' },
      { id: 'call_2', name: 'run_command', arguments: '{"command":"node test.js"}' },
    ],
    usage: { inputTokens: 300, outputTokens: 20 },
    durationMs: 120,
  },
  {
    time: at(3),
    type: 'tool',
    step: 1,
    callId: 'call_1',
    name: 'read_file',
    isError: false,
    result: 'module.exports = (a, b) => a - b;',
    elapsedMs: 4,
  },
  {
    time: at(4),
    type: 'tool',
    step: 1,
    callId: 'call_2',
    name: 'run_command',
    isError: true,
    result: 'exit code 1\nFAIL: add(2, 3) is -1',
    elapsedMs: 50,
    commandMs: 45,
  },
  { time: at(5), type: 'malformed', step: 2, message: 'the arguments of write_file are not JSON' },
  { time: at(6), type: 'command', processId: 'prc_1', argv: ['aider', '--yes'] },
  { time: at(7), type: 'output', text: 'aider: reading files\n' },
  { time: at(8), type: 'output-gap', bytes: 2048 },
  { time: at(9), type: 'error', message: 'the model server answered 500' },
  {
    time: at(10),
    type: 'end',
    state: 'succeeded',
    summary: 'add now adds',
    steps: 4,
    inputTokens: 1200,
    outputTokens: 80,
    toolCalls: 2,
    malformed: 1,
  },
];
