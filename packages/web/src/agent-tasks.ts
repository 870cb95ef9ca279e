import type { paths } from './api-types.js';

type TaskCall = paths['/v1/agent-tasks/{id}']['get'];
type PolicyCall = paths['/v1/org/policy']['get'];

/** An agent task as the control plane records it: state, counts and digests, never content. */
export type AgentTask = TaskCall['responses'][200]['content']['application/json'];

export type AgentTaskState = AgentTask['state'];
export type AgentTool = AgentTask['tools'][number];
export type AgentLimits = AgentTask['limits'];

export type CreateAgentTaskBody = NonNullable<
  paths['/v1/agent-tasks']['post']['requestBody']
>['content']['application/json'];

export type ModelConfig = NonNullable<CreateAgentTaskBody['model']>;

/** The organization's agent rules, absent when it sets none. */
export type AgentPolicy = PolicyCall['responses'][200]['content']['application/json']['agents'];

/** Every tool, in the order the form offers them. */
export const agentTools = [
  'run_command',
  'read_file',
  'write_file',
  'replace_in_file',
  'list_directory',
  'search_files',
  'finish',
] as const satisfies readonly AgentTool[];

// Fails to compile when the API gains a tool this list lacks.
type MissingTool = Exclude<AgentTool, (typeof agentTools)[number]>;
const noToolMissing: [MissingTool] extends [never] ? true : never = true;
void noToolMissing;

const finalStates: readonly AgentTaskState[] = [
  'succeeded',
  'failed',
  'cancelled',
  'limit_reached',
];

/** True once a task has ended; its state and counts no longer change. */
export function isFinalState(state: AgentTaskState): boolean {
  return finalStates.includes(state);
}

/**
 * The SHA-256 of the prompt, in hex, as `POST /v1/agent-tasks` takes it: the control plane
 * keeps the digest, the runner checks the prompt against it. Browsers offer WebCrypto only to
 * secure contexts (HTTPS, or a page on localhost).
 */
export async function promptSha256(prompt: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new Error(
      'this browser offers no SHA-256 here: WebCrypto needs a secure context, so open the ' +
        'dashboard over HTTPS',
    );
  }
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(prompt));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
