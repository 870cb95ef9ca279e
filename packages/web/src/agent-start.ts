import { promptSha256, type AgentTask, type CreateAgentTaskBody } from './agent-tasks.js';
import { resultOf, type Client, type Result } from './client.js';
import { gatewayClient, grantFor, type Grant } from './gateway.js';

/** What the start form asks for: the task's body without the digest, and the prompt itself. */
export interface StartRequest {
  body: Omit<CreateAgentTaskBody, 'promptSha256'>;
  prompt: string;
}

/** A started task, or why not; `task` is set when the task exists but has no prompt yet. */
export type StartOutcome =
  { ok: true; task: AgentTask } | { ok: false; message: string; task?: AgentTask };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hands the prompt to the runner's gateway, which checks it against the task's digest. The
 * runner learns of a new task over its own connection, a moment after the create: a 404 is
 * tried again for `retryForMs` (0.1 s, doubling, at most 1 s between tries).
 */
export async function submitPrompt(
  grant: Grant,
  taskId: string,
  prompt: string,
  retryForMs = 10_000,
): Promise<Result<unknown>> {
  const gateway = gatewayClient(grant);
  const deadline = Date.now() + retryForMs;
  let delayMs = 100;
  for (;;) {
    const result = await resultOf(
      gateway.POST('/v1/agent-tasks/{id}/prompt', {
        params: { path: { id: taskId } },
        body: { prompt },
      }),
    );
    if (result.ok || result.status !== 404 || Date.now() + delayMs > deadline) return result;
    await sleep(delayMs);
    delayMs = Math.min(1000, delayMs * 2);
  }
}

/**
 * Starts a task the way the control plane wants it: the record with the prompt's SHA-256 (the
 * control plane never sees the prompt), then the prompt to the runner with a grant for op
 * `agent`.
 */
export async function startAgentTask(
  client: Client,
  request: StartRequest,
  options: { retryForMs?: number } = {},
): Promise<StartOutcome> {
  let promptSha: string;
  try {
    promptSha = await promptSha256(request.prompt);
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const created = await resultOf(
    client.POST('/v1/agent-tasks', { body: { ...request.body, promptSha256: promptSha } }),
  );
  if (!created.ok) return { ok: false, message: created.message };
  const task = created.data;
  const grant = await grantFor(client, task.environmentId, ['agent']);
  if (!grant.ok) {
    return { ok: false, task, message: `no grant for the runner: ${grant.message}` };
  }
  const sent = await submitPrompt(grant.data, task.id, request.prompt, options.retryForMs);
  if (!sent.ok) {
    return { ok: false, task, message: `the runner did not take the prompt: ${sent.message}` };
  }
  return { ok: true, task };
}
