import type { AgentLimits } from '@hangar/api';
import type { Message, ModelTurn, Usage } from './conversation.js';

/** What a task has used so far; what the runner reports, never what was said. */
export interface LoopCounts {
  /** Model turns. */
  steps: number;
  inputTokens: number;
  outputTokens: number;
  /** Tool calls that ran (refused ones included). */
  toolCalls: number;
  /** Replies and calls the loop could not use: answered with an error and counted here. */
  malformed: number;
}

export const emptyCounts = (): LoopCounts => ({
  steps: 0,
  inputTokens: 0,
  outputTokens: 0,
  toolCalls: 0,
  malformed: 0,
});

/** The limit a task has reached before its next model turn, if any. */
export function limitBeforeTurn(
  counts: LoopCounts,
  limits: AgentLimits,
): 'maxSteps' | 'maxTokens' | undefined {
  if (counts.inputTokens + counts.outputTokens >= limits.maxTokens) return 'maxTokens';
  if (counts.steps >= limits.maxSteps) return 'maxSteps';
  return undefined;
}

/**
 * Tokens as the model reported them; when it did not, a rough count of four characters a
 * token, so a server that reports nothing still runs into `maxTokens`.
 */
export function usageOrEstimate(
  turn: Pick<ModelTurn, 'text' | 'toolCalls' | 'usage'> | undefined,
  messages: readonly Message[],
  outputChars = 0,
): Usage {
  const input = messages.reduce(
    (sum, message) =>
      sum + message.content.length + ('toolCalls' in message ? argsLength(message) : 0),
    0,
  );
  const output = turn
    ? turn.text.length + turn.toolCalls.reduce((sum, call) => sum + call.arguments.length, 0)
    : outputChars;
  if (!turn?.usage) {
    return { inputTokens: Math.ceil(input / 4), outputTokens: Math.ceil(output / 4) };
  }
  // A server's own count is trusted only down to a floor of one token per eight characters, so
  // a server that reports 0 cannot make a task run past maxTokens.
  return {
    inputTokens: Math.max(turn.usage.inputTokens, Math.ceil(input / floorCharsPerToken)),
    outputTokens: Math.max(turn.usage.outputTokens, Math.ceil(output / floorCharsPerToken)),
  };
}

const floorCharsPerToken = 8;

function argsLength(message: Extract<Message, { role: 'assistant' }>): number {
  return message.toolCalls.reduce((sum, call) => sum + call.arguments.length, 0);
}
