import type { Message, ModelClient, ModelRequest, ModelTurn, ToolCall } from './conversation.js';
import {
  checkToolCallCount,
  checkTurnSize,
  eventJson,
  postJson,
  readJson,
  sseEvents,
} from './http.js';
import { ModelError } from './model-error.js';
import { joinUrl, type ClientOptions } from './client-options.js';

type Json = Record<string, unknown>;

function wireMessages(system: string, messages: readonly Message[]): Json[] {
  const out: Json[] = [{ role: 'system', content: system }];
  for (const message of messages) {
    if (message.role === 'user') out.push({ role: 'user', content: message.content });
    else if (message.role === 'tool') {
      out.push({ role: 'tool', tool_call_id: message.callId, content: message.content });
    } else {
      out.push({
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      });
    }
  }
  return out;
}

const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
const asString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const asCount = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

function usageOf(value: unknown): ModelTurn['usage'] {
  const usage = asObject(value);
  if (!usage) return undefined;
  return {
    inputTokens: asCount(usage.prompt_tokens),
    outputTokens: asCount(usage.completion_tokens),
  };
}

/**
 * Tool calls put together from stream deltas, by their `index`; a reply past
 * `maxReplyToolCalls` calls is refused as soon as it gets there.
 */
class ToolCallAssembly {
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  /** Adds one delta; returns how many characters of arguments it brought. */
  add(delta: unknown): number {
    const item = asObject(delta);
    if (!item) throw new ModelError('protocol', 'a tool call delta is not an object');
    const index = typeof item.index === 'number' ? item.index : this.calls.size;
    let call = this.calls.get(index);
    if (!call) {
      checkToolCallCount(this.calls.size + 1);
      call = { id: '', name: '', arguments: '' };
      this.calls.set(index, call);
    }
    const id = asString(item.id);
    if (id && !call.id) call.id = id;
    const fn = asObject(item.function);
    const name = asString(fn?.name);
    if (name && !call.name) call.name = name;
    const piece = asString(fn?.arguments) ?? '';
    call.arguments += piece;
    return piece.length;
  }

  done(): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  }
}

/**
 * A client of the OpenAI Chat Completions API with tools (`POST <baseUrl>/chat/completions`), as
 * OpenAI-compatible servers speak it (vLLM, Ollama, gateways). Streams by default: text and
 * tool-call deltas are assembled by the index the server gives each call.
 */
export class OpenAiClient implements ModelClient {
  readonly api = 'openai';
  readonly model: string;

  constructor(private readonly options: ClientOptions) {
    this.model = options.model;
  }

  async complete(request: ModelRequest): Promise<ModelTurn> {
    const stream = this.options.stream ?? true;
    const response = await postJson({
      url: joinUrl(this.options.baseUrl, 'chat/completions'),
      headers: this.options.key ? { authorization: `Bearer ${this.options.key}` } : {},
      body: {
        model: this.options.model,
        messages: wireMessages(request.system, request.messages),
        tools: request.tools.map((tool) => ({
          type: 'function',
          function: { name: tool.name, description: tool.description, parameters: tool.parameters },
        })),
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      },
      signal: request.signal,
      ...(this.options.retries !== undefined ? { retries: this.options.retries } : {}),
    });
    return stream ? streamed(response) : whole(response);
  }
}

async function whole(response: Response): Promise<ModelTurn> {
  const body = asObject(await readJson(response));
  const choices = Array.isArray(body?.choices) ? body.choices : [];
  const choice = asObject(choices[0]);
  const message = asObject(choice?.message);
  if (!message) throw new ModelError('protocol', 'the reply has no choices[0].message');
  const assembly = new ToolCallAssembly();
  const calls: unknown[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, index) => assembly.add({ index, ...asObject(call) }));
  checkTurnSize((asString(message.content) ?? '').length);
  return {
    text: asString(message.content) ?? '',
    toolCalls: assembly.done(),
    usage: usageOf(body?.usage),
    stopReason: asString(choice?.finish_reason),
  };
}

async function streamed(response: Response): Promise<ModelTurn> {
  let text = '';
  let usage: ModelTurn['usage'];
  let stopReason: string | undefined;
  let ended = false;
  let chars = 0;
  const assembly = new ToolCallAssembly();
  for await (const event of sseEvents(response)) {
    if (event.data === '[DONE]') {
      ended = true;
      break;
    }
    const chunk = eventJson(event);
    if (chunk.error !== undefined) {
      const message = asString(asObject(chunk.error)?.message) ?? 'no message';
      throw new ModelError('server_error', `the model stream reported an error: ${message}`);
    }
    usage = usageOf(chunk.usage) ?? usage;
    const choices: unknown[] = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const item of choices) {
      const choice = asObject(item);
      const delta = asObject(choice?.delta);
      const content = asString(delta?.content) ?? '';
      text += content;
      chars += content.length;
      const calls: unknown[] = Array.isArray(delta?.tool_calls) ? delta.tool_calls : [];
      for (const call of calls) chars += assembly.add(call);
      checkTurnSize(chars);
      stopReason = asString(choice?.finish_reason) ?? stopReason;
    }
  }
  if (!ended && stopReason === undefined) {
    throw new ModelError('protocol', 'the model stream ended before [DONE] or a finish reason');
  }
  return { text, toolCalls: assembly.done(), usage, stopReason };
}
