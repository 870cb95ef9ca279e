import { createHash } from 'node:crypto';
import type { AgentTask, DesiredAgentTask, ErrorBody, ServerMessage } from '@hangar/api';
import type { ProtocolRunner } from './fake-runner.js';
import type { ApiResponse, TestControlPlane } from './harness.js';

/** A model on loopback; the control plane never calls it, it only passes it on. */
export const testModel = { api: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'test-model' };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function createTask(
  t: TestControlPlane,
  body: Record<string, unknown>,
  token?: string,
): Promise<ApiResponse<AgentTask & ErrorBody>> {
  return t.request<AgentTask & ErrorBody>('POST', '/v1/agent-tasks', {
    body: { promptSha256: sha256Hex('fix the failing test'), model: testModel, ...body },
    ...(token ? { token } : {}),
  });
}

/** Creates a task and fails unless it was accepted. */
export async function createdTask(
  t: TestControlPlane,
  body: Record<string, unknown>,
  token?: string,
): Promise<AgentTask> {
  const response = await createTask(t, body, token);
  if (response.status !== 201) throw new Error(`task refused: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** The last state of task `id` the runner was sent, in a welcome or an agent-task message. */
export function desiredTask(runner: ProtocolRunner, id: string): DesiredAgentTask | undefined {
  const tasks = runner.received.flatMap((message) =>
    message.type === 'agent-task'
      ? [message.task]
      : message.type === 'welcome'
        ? (message.agentTasks ?? [])
        : [],
  );
  return tasks.filter((task) => task.id === id).at(-1);
}

/** Waits for an agent-task message about `id` whose desired state is `desired`. */
export function taskPushed(runner: ProtocolRunner, id: string, desired: 'run' | 'stop') {
  return runner.waitFor<ServerMessage & { type: 'agent-task' }>(
    (message) =>
      message.type === 'agent-task' && message.task.id === id && message.task.desired === desired,
  );
}

/** Polls the API until the task reaches `state` (the hub applies reports asynchronously). */
export async function waitForState(t: TestControlPlane, id: string, state: string) {
  for (let i = 0; i < 500; i += 1) {
    const response = await t.request<AgentTask>('GET', `/v1/agent-tasks/${id}`);
    if (response.body.state === state) return response.body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`agent task ${id} never reached ${state}`);
}
