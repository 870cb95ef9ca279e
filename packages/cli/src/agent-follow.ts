import type { AgentTask } from '@hangar/api';
import { agentAccess, getTask, isFinalState, readTranscript } from './agent-client.js';
import { endState, transcriptText } from './agent-transcript.js';
import type { GatewayAccess } from './gateway.js';
import type { HttpClient } from './http-client.js';
import type { Output } from './output.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The task as the control plane records it once its runner's final report arrived, which may
 * be a moment after the transcript ends; after `waitMs` (10 s), whatever it holds then.
 */
async function settledTask(api: HttpClient, id: string, waitMs = 10000): Promise<AgentTask> {
  const deadline = Date.now() + waitMs;
  let delayMs = 100;
  for (;;) {
    const task = await getTask(api, id);
    if (isFinalState(task.state) || Date.now() + delayMs > deadline) return task;
    await sleep(delayMs);
    delayMs = Math.min(1000, delayMs * 2);
  }
}

/**
 * Prints the task's transcript from the runner: readable lines, or with --json each event as
 * one line of JSON. With `follow`, until the task ends; returns the task as it ended (or as it
 * is, without `follow`).
 */
export async function followTranscript(
  api: HttpClient,
  out: Output,
  task: AgentTask,
  options: { follow: boolean; access?: GatewayAccess },
): Promise<AgentTask> {
  const access = options.access ?? (await agentAccess(api, task));
  let ended: string | undefined;
  await readTranscript(access, task.id, {
    follow: options.follow && !isFinalState(task.state),
    onEvent: (event) => {
      ended = endState(event) ?? ended;
      if (out.json) {
        out.raw(`${JSON.stringify(event)}\n`);
        return;
      }
      const printed = transcriptText(event);
      if (printed !== '') out.raw(printed);
    },
  });
  if (!options.follow) return getTask(api, task.id);
  const final = await settledTask(api, task.id);
  if (!out.json) {
    const state = isFinalState(final.state) ? final.state : (ended ?? final.state);
    out.info(`agent task ${task.id} ${state}${final.reason ? `: ${final.reason}` : ''}`);
  }
  return final;
}
