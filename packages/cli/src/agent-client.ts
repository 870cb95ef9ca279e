import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AgentTask, CreateAgentTaskBody } from '@hangar/api';
import { HangarError } from '@hangar/api/errors.js';
import { gatewayClient, requestAccess, type GatewayAccess } from './gateway.js';
import { errorFromResponse, type HttpClient } from './http-client.js';

/**
 * The agent task calls of the CLI: the record on the control plane, the prompt and the
 * transcript on the runner's gateway. The prompt goes to the runner only; the control plane
 * gets its SHA-256.
 */

export const finalTaskStates = ['succeeded', 'failed', 'cancelled', 'limit_reached'] as const;

export function isFinalState(state: string): boolean {
  return (finalTaskStates as readonly string[]).includes(state);
}

export function promptSha256(prompt: string): string {
  return createHash('sha256').update(prompt, 'utf8').digest('hex');
}

const taskPath = (id: string) => `/v1/agent-tasks/${encodeURIComponent(id)}`;

export function createTask(api: HttpClient, body: CreateAgentTaskBody): Promise<AgentTask> {
  return api.post<AgentTask>('/v1/agent-tasks', body);
}

export function getTask(api: HttpClient, id: string): Promise<AgentTask> {
  return api.get<AgentTask>(taskPath(id));
}

export async function listTasks(api: HttpClient, options: { all: boolean }) {
  const query = options.all ? { all: true } : {};
  return (await api.get<{ agentTasks: AgentTask[] }>('/v1/agent-tasks', query)).agentTasks;
}

export function stopTask(api: HttpClient, id: string): Promise<AgentTask> {
  return api.post<AgentTask>(`${taskPath(id)}/stop`);
}

/** A grant with op `agent` for the task's environment (its owner only). */
export function agentAccess(api: HttpClient, task: AgentTask): Promise<GatewayAccess> {
  return requestAccess(api, task.environmentId, ['agent']);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hands the prompt to the runner, which checks it against the digest the task holds. The
 * runner learns of a new task over its own connection, which may lag the create by a moment:
 * a `not_found` is retried for a few seconds (0.1 s, doubling, up to 1 s between tries).
 */
export async function submitPrompt(
  access: GatewayAccess,
  taskId: string,
  prompt: string,
  options: { retryForMs?: number } = {},
): Promise<void> {
  const client = gatewayClient(access);
  const deadline = Date.now() + (options.retryForMs ?? 10000);
  let delayMs = 100;
  for (;;) {
    try {
      await client.post<unknown>(`${taskPath(taskId)}/prompt`, { prompt });
      return;
    } catch (error) {
      const retry = error instanceof HangarError && error.code === 'not_found';
      if (!retry || Date.now() + delayMs > deadline) throw error;
      await sleep(delayMs);
      delayMs = Math.min(1000, delayMs * 2);
    }
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('error', reject);
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * Reads the task's transcript from the gateway, one JSON value per line, and hands each to
 * `onEvent` as it arrives. With `follow` the runner keeps the response open until the task
 * ends. A line that is not JSON is handed over as `{ type: 'text', text }`.
 */
export function readTranscript(
  access: GatewayAccess,
  taskId: string,
  options: { follow: boolean; onEvent: (event: Record<string, unknown>) => void },
): Promise<void> {
  const url = new URL(`${access.gatewayUrl.replace(/\/+$/, '')}${taskPath(taskId)}/transcript`);
  if (options.follow) url.searchParams.set('follow', '1');
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const service = `runner gateway of ${access.runnerId}`;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'GET', headers: { authorization: `Bearer ${access.token}` } },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          readBody(response).then(
            (text) => reject(errorFromResponse({ status, text, service })),
            reject,
          );
          return;
        }
        let pending = '';
        const emit = (line: string) => {
          if (line.trim() === '') return;
          options.onEvent(parseLine(line));
        };
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          lines.forEach(emit);
        });
        response.on('error', reject);
        response.on('end', () => {
          emit(pending);
          resolve();
        });
      },
    );
    outgoing.on('error', (error) =>
      reject(
        new HangarError(
          'unreachable',
          `cannot reach the ${service} at ${access.gatewayUrl} (${error.message}); is the ` +
            'runner running, and its gateway reachable?',
          { cause: error },
        ),
      ),
    );
    outgoing.end();
  });
}

function parseLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not JSON: shown as it is.
  }
  return { type: 'text', text: line };
}
