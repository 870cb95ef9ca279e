import {
  createModelClient,
  defaultSystemPrompt,
  emptyCounts,
  runAgentLoop,
  type LoopCounts,
  type LoopResult,
} from '@hangar/agent';
import type { DesiredAgentTask } from '@hangar/api';
import type { AuditDraft } from '../audit-queue.js';
import type { Logger } from '../logger.js';
import type { AgentGatewayClient } from './gateway-client.js';
import { GatewayToolbox } from './toolbox.js';
import type { Transcript } from './transcript.js';

/** What running one task needs; the manager assembles it. */
export interface RunContext {
  task: DesiredAgentTask;
  prompt: string;
  transcript: Transcript;
  /** Aborted by a stop. */
  signal: AbortSignal;
  client: AgentGatewayClient;
  workspaceFolder: string;
  audit: { append(draft: AuditDraft): Promise<unknown> };
  logger: Logger;
  /** The agent's proxy credentials, for every command it starts. */
  commandEnv: Record<string, string>;
  modelKey: string | undefined;
  /** Counts so far, after each model turn. */
  onCounts: (counts: LoopCounts) => void;
  /** Registers what ends the task's commands at once on a stop. */
  onKill: (kill: () => Promise<void>) => void;
}

/** Tool output in the transcript: enough to follow along, not every byte. */
const transcriptChars = 16 * 1024;

const clip = (text: string) =>
  text.length > transcriptChars ? `${text.slice(0, transcriptChars)}[...]` : text;

/** A loop task: the model and its tool calls, beside the environment. */
export async function runLoopTask(context: RunContext): Promise<LoopResult> {
  const { task, transcript } = context;
  const toolbox = new GatewayToolbox({
    task,
    workspaceFolder: context.workspaceFolder,
    client: context.client,
    audit: context.audit,
    logger: context.logger,
    commandEnv: context.commandEnv,
  });
  context.onKill(async () => {
    toolbox.killAll();
  });
  const client = createModelClient(task.model, {
    ...(context.modelKey !== undefined ? { key: context.modelKey } : {}),
  });
  transcript.append({ type: 'prompt', text: context.prompt });
  return runAgentLoop({
    client,
    toolbox,
    tools: task.tools,
    prompt: context.prompt,
    system: defaultSystemPrompt(context.workspaceFolder),
    limits: task.limits,
    signal: context.signal,
    onEvent: (event) => {
      if (event.type === 'turn') {
        context.onCounts(event.counts);
        transcript.append({
          type: 'model',
          step: event.step,
          text: event.text,
          toolCalls: event.toolCalls.map((call) => ({ ...call, arguments: clip(call.arguments) })),
          usage: event.usage,
          durationMs: Math.round(event.durationMs),
        });
      } else if (event.type === 'tool') {
        transcript.append({
          type: 'tool',
          step: event.step,
          callId: event.callId,
          name: event.name,
          isError: event.isError,
          result: clip(event.content),
          elapsedMs: round(event.elapsedMs),
          ...(event.commandMs !== undefined ? { commandMs: round(event.commandMs) } : {}),
        });
      } else if (event.type === 'malformed') {
        transcript.append({
          type: 'malformed',
          step: event.step,
          ...(event.callId !== undefined ? { callId: event.callId } : {}),
          message: event.message,
        });
      }
    },
  });
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** How often a command agent's output is fetched: the wait's longest pause, in seconds. */
const pollS = 1;
const maxChunkBytes = 1024 * 1024;

/**
 * A command-line agent: the task's argv started as a durable command in the environment, the
 * prompt on its stdin or as its last argument, the model key in `keyVariable`. Its output is
 * the transcript. The wall-time limit is the command's timeout and a timer here; a stop kills
 * its process group.
 */
export async function runCommandTask(context: RunContext): Promise<LoopResult> {
  const { task, client, transcript, signal } = context;
  const command = task.command;
  const counts = emptyCounts();
  if (!command) return { state: 'failed', reason: 'the task has no command', ...counts };
  const env: Record<string, string> = { ...context.commandEnv };
  if (command.keyVariable && context.modelKey !== undefined) {
    env[command.keyVariable] = context.modelKey;
  }
  let argv = [...command.argv];
  if (command.prompt === 'argument') argv.push(context.prompt);
  else {
    // The prompt reaches stdin through a variable, so it is in no command line or log.
    env.HANGAR_AGENT_PROMPT = context.prompt;
    argv = ['/bin/sh', '-c', 'printf "%s" "$HANGAR_AGENT_PROMPT" | "$@"', 'hangar-agent', ...argv];
  }
  const started = Date.now();
  const info = await client.startProcess(
    { command: argv, env, timeoutMs: task.limits.maxWallTimeS * 1000, mask: true },
    signal,
  );
  context.onKill(() => client.signalProcess(info.id, 'SIGKILL').catch(() => undefined));
  transcript.append({ type: 'command', processId: info.id, argv: command.argv });
  // Where the transcript has got to, in the program's own bytes. The output comes masked, so
  // its length says nothing of that: each read asks from here and ends at `outputBytes`.
  // Known gap: a secret value cut by the end of one read is masked in neither piece; masking
  // across reads would need the gateway to hold back a possible value's start.
  let offset = 0;
  const drain = async () => {
    const detail = await client.processDetail(
      info.id,
      { fromOffset: offset, tailBytes: maxChunkBytes },
      AbortSignal.timeout(10_000),
    );
    if (detail.outputTailFrom > offset) {
      transcript.append({ type: 'output-gap', bytes: detail.outputTailFrom - offset });
    }
    const data = Buffer.from(detail.outputTail, 'base64');
    if (data.length > 0) transcript.append({ type: 'output', text: data.toString('utf8') });
    offset = Math.max(offset, detail.outputBytes);
    return detail;
  };
  for (;;) {
    const waited = await client.waitProcess(info.id, pollS, signal).catch((error: unknown) => {
      if (signal.aborted) return undefined;
      throw error;
    });
    const detail = await drain();
    if (signal.aborted) return { state: 'cancelled', reason: 'stopped', ...counts };
    if (waited?.state === 'exited' || detail.state === 'exited') {
      if (detail.timedOut || Date.now() - started >= task.limits.maxWallTimeS * 1000) {
        return { state: 'limit_reached', reason: 'maxWallTimeS', ...counts };
      }
      const ok = detail.exitCode === 0;
      const reason =
        detail.exitCode !== null ? `exit code ${detail.exitCode}` : `signal ${detail.signal ?? ''}`;
      return ok ? { state: 'succeeded', ...counts } : { state: 'failed', reason, ...counts };
    }
  }
}
