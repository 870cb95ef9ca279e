import type { ToolCall, ToolSpec } from './conversation.js';
import { checkArguments, isAgentTool, maxArgumentBytes, type CheckedCall } from './tools.js';

export type Checked = { ok: true; call: CheckedCall } | { ok: false; message: string };

/**
 * A call as the model made it, checked: its arguments' size, the tool's name, JSON and the
 * tool's schema. A refusal says what to change, in words for the model.
 */
export function checkCall(call: ToolCall, offered: readonly ToolSpec[]): Checked {
  const bytes = Buffer.byteLength(call.arguments);
  if (bytes > maxArgumentBytes) {
    return {
      ok: false,
      message:
        `the arguments of ${call.name.slice(0, 100)} are ${bytes} bytes; at most ` +
        `${maxArgumentBytes} are accepted: write large files in parts`,
    };
  }
  if (!isAgentTool(call.name)) {
    return {
      ok: false,
      message:
        `there is no tool ${JSON.stringify(call.name.slice(0, 100))}; use one of ` +
        offered.map((spec) => spec.name).join(', '),
    };
  }
  let parsed: unknown;
  try {
    parsed = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (error) {
    return {
      ok: false,
      message: `the arguments of ${call.name} are not valid JSON (${(error as Error).message})`,
    };
  }
  const args = checkArguments(call.name, parsed);
  if (!args.ok) return args;
  return { ok: true, call: { id: call.id, name: call.name, args: args.value } as CheckedCall };
}
