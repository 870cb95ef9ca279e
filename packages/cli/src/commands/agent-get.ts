import type { AgentTask } from '@hangar/api';
import { getTask } from '../agent-client.js';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

/** The lines `agent get` prints for a person. */
export function describeTask(task: AgentTask): string[] {
  const { limits } = task;
  const lines = [
    `id:           ${task.id}`,
    `state:        ${task.state}${task.reason ? ` (${task.reason})` : ''}`,
    `kind:         ${task.kind}`,
    `model:        ${task.model}`,
    `environment:  ${task.environmentId} on runner ${task.runnerId}`,
    `owner:        ${task.ownerId}`,
    `tools:        ${task.tools.join(', ')}`,
    `limits:       ${limits.maxSteps} steps, ${limits.maxTokens} tokens, ` +
      `${limits.maxWallTimeS} s in all, ${limits.commandTimeoutS} s per command`,
    `steps:        ${task.steps}`,
    `tokens:       ${task.inputTokens} in, ${task.outputTokens} out`,
    `prompt:       sha256 ${task.promptSha256}`,
  ];
  if (task.summarySha256) lines.push(`summary:      sha256 ${task.summarySha256}`);
  lines.push(`created:      ${task.createdAt}`);
  if (task.startedAt) lines.push(`started:      ${task.startedAt}`);
  if (task.endedAt) lines.push(`ended:        ${task.endedAt}`);
  return lines;
}

export const command = defineCommand({
  synopsis: '<id>',
  description:
    'Shows one agent task: state, counts, limits and the digests of its prompt and summary. ' +
    'The prompt and transcript stay on the runner: `hangar agent logs <id>` reads them.',
  spec: {
    positionals: [{ name: 'id', required: true, describe: 'agent task id (agt_…)' }],
    flags: { ...apiFlags },
  },
  async run({ io, out }, { flags, positionals }) {
    const { api } = await openSession(io, flags);
    const task = await getTask(api, positionals.id);
    out.result(task, () => describeTask(task));
    return 0;
  },
});
