import type { Message, ModelClient, ModelRequest, ModelTurn, ToolCall } from './conversation.js';
import { joinUrl, type ClientOptions } from './client-options.js';
import {
  checkToolCallCount,
  checkTurnSize,
  eventJson,
  postJson,
  readJson,
  sseEvents,
} from './http.js';
import { ModelError } from './model-error.js';

type Json = Record<string, unknown>;

export const anthropicVersion = '2023-06-01';

const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const asCount = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

/** A tool call's input as the Messages API wants it: an object, `{}` for arguments that are not. */
function inputOf(call: ToolCall): Json {
  try {
    return asObject(JSON.parse(call.arguments)) ?? {};
  } catch {
    return {};
  }
}

/**
 * The conversation as Messages API turns: tool results become `tool_result` blocks of a user
 * turn, and adjacent turns of one role are merged, since the API wants them to alternate.
 */
function wireMessages(messages: readonly Message[]): Json[] {
  const out: Array<{ role: 'user' | 'assistant'; content: Json[] }> = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const message of messages) {
    if (message.role === 'user') push('user', [{ type: 'text', text: message.content }]);
    else if (message.role === 'tool') {
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: message.callId,
          content: message.content,
          ...(message.isError ? { is_error: true } : {}),
        },
      ]);
    } else {
      const text = message.content === '' ? [] : [{ type: 'text', text: message.content }];
      const uses = message.toolCalls.map((call) => ({
        type: 'tool_use',
        id: call.id,
        name: call.name,
        input: inputOf(call),
      }));
      // An empty assistant turn is refused by the API; say that nothing was said.
      push(
        'assistant',
        text.length + uses.length > 0 ? [...text, ...uses] : [{ type: 'text', text: '(no reply)' }],
      );
    }
  }
  return out;
}

/**
 * A client of the Anthropic Messages API with tools (`POST <baseUrl>/v1/messages`). Streams by
 * default: text and tool input come as deltas of content blocks, tokens in `message_start` and
 * `message_delta`.
 */
export class AnthropicClient implements ModelClient {
  readonly api = 'anthropic';
  readonly model: string;

  constructor(private readonly options: ClientOptions) {
    this.model = options.model;
  }

  async complete(request: ModelRequest): Promise<ModelTurn> {
    const stream = this.options.stream ?? true;
    const response = await postJson({
      url: joinUrl(this.options.baseUrl, 'v1/messages'),
      headers: {
        'anthropic-version': anthropicVersion,
        ...(this.options.key ? { 'x-api-key': this.options.key } : {}),
      },
      body: {
        model: this.options.model,
        max_tokens: this.options.maxOutputTokens ?? 8192,
        system: request.system,
        messages: wireMessages(request.messages),
        tools: request.tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          input_schema: tool.parameters,
        })),
        ...(stream ? { stream: true } : {}),
      },
      signal: request.signal,
      ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
    });
    return stream ? streamed(response) : whole(response);
  }
}

async function whole(response: Response): Promise<ModelTurn> {
  const body = asObject(await readJson(response));
  if (!body || !Array.isArray(body.content)) {
    throw new ModelError('protocol', 'the reply has no content list');
  }
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const item of body.content) {
    const block = asObject(item);
    if (block?.type === 'text') text += asString(block.text) ?? '';
    if (block?.type === 'tool_use') {
      checkToolCallCount(toolCalls.length + 1);
      toolCalls.push({
        id: asString(block.id) ?? `toolu_${toolCalls.length}`,
        name: asString(block.name) ?? '',
        arguments: JSON.stringify(block.input ?? {}),
      });
    }
  }
  checkTurnSize(text.length);
  const usage = asObject(body.usage);
  return {
    text,
    toolCalls,
    usage: usage
      ? { inputTokens: asCount(usage.input_tokens), outputTokens: asCount(usage.output_tokens) }
      : undefined,
    stopReason: asString(body.stop_reason),
  };
}

interface Block {
  kind: 'text' | 'tool_use' | 'other';
  text: string;
  id: string;
  name: string;
  json: string;
  /** The input the start event gave, used when no input_json_delta follows. */
  startInput: unknown;
}

async function streamed(response: Response): Promise<ModelTurn> {
  const blocks = new Map<number, Block>();
  let usage: ModelTurn['usage'];
  let stopReason: string | undefined;
  let stopped = false;
  let chars = 0;
  let calls = 0;
  for await (const event of sseEvents(response)) {
    const data = eventJson(event);
    const type = asString(data.type) ?? event.event;
    if (type === 'message_start') {
      const counts = asObject(asObject(data.message)?.usage);
      usage = counts && {
        inputTokens: asCount(counts.input_tokens),
        outputTokens: asCount(counts.output_tokens),
      };
    } else if (type === 'content_block_start') {
      const block = asObject(data.content_block);
      const kind = block?.type === 'text' || block?.type === 'tool_use' ? block.type : 'other';
      if (kind === 'tool_use') checkToolCallCount((calls += 1));
      blocks.set(asCount(data.index), {
        kind,
        text: asString(block?.text) ?? '',
        id: asString(block?.id) ?? '',
        name: asString(block?.name) ?? '',
        json: '',
        startInput: block?.input,
      });
    } else if (type === 'content_block_delta') {
      const block = blocks.get(asCount(data.index));
      if (!block) throw new ModelError('protocol', 'a content block delta before its start');
      const delta = asObject(data.delta);
      const text = delta?.type === 'text_delta' ? (asString(delta.text) ?? '') : '';
      const json = delta?.type === 'input_json_delta' ? (asString(delta.partial_json) ?? '') : '';
      block.text += text;
      block.json += json;
      chars += text.length + json.length;
      checkTurnSize(chars);
    } else if (type === 'message_delta') {
      stopReason = asString(asObject(data.delta)?.stop_reason) ?? stopReason;
      const counts = asObject(data.usage);
      if (counts && usage) usage.outputTokens = asCount(counts.output_tokens);
      else if (counts) usage = { inputTokens: 0, outputTokens: asCount(counts.output_tokens) };
    } else if (type === 'message_stop') {
      stopped = true;
      break;
    } else if (type === 'error') {
      const message = asString(asObject(data.error)?.message) ?? 'no message';
      throw new ModelError('server_error', `the model stream reported an error: ${message}`);
    }
  }
  if (!stopped) throw new ModelError('protocol', 'the model stream ended before message_stop');
  return { ...assembled(blocks), usage, stopReason };
}

function assembled(blocks: Map<number, Block>): { text: string; toolCalls: ToolCall[] } {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const [index, block] of [...blocks.entries()].sort(([a], [b]) => a - b)) {
    if (block.kind === 'text') text += block.text;
    if (block.kind !== 'tool_use') continue;
    const start = asObject(block.startInput);
    const json = block.json !== '' ? block.json : JSON.stringify(start ?? {});
    toolCalls.push({ id: block.id || `toolu_${index}`, name: block.name, arguments: json });
  }
  return { text, toolCalls };
}
