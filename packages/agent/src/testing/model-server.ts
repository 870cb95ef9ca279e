import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tool call the scripted model makes; `arguments` as a string is sent as is (even if bad). */
export interface ScriptedCall {
  name: string;
  arguments: unknown;
  id?: string;
}

/**
 * One turn the scripted model plays: a reply (text and tool calls, with the usage it reports),
 * or misbehaviour: a raw body, text that never ends, an HTTP error, or no answer at all.
 */
export type ScriptedTurn =
  | {
      text?: string;
      toolCalls?: ScriptedCall[];
      usage?: { inputTokens: number; outputTokens: number };
      /** Omits the usage from the reply, as some servers do. */
      noUsage?: boolean;
    }
  | { raw: string }
  | { endlessText: true }
  | { status: number; message?: string }
  | { hang: true };

export interface RecordedRequest {
  api: 'openai' | 'anthropic';
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  stream: boolean;
  /** performance.now() when the request had arrived in full. */
  receivedAt: number;
  /** performance.now() when its answer was sent in full. */
  answeredAt?: number;
}

export type TurnSource = ScriptedTurn | ((request: RecordedRequest) => ScriptedTurn);

const piece = 7;

function pieces(text: string, size = piece): string[] {
  const out: string[] = [];
  for (let start = 0; start < text.length; start += size) out.push(text.slice(start, start + size));
  return out;
}

const argumentsText = (call: ScriptedCall) =>
  typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);

/**
 * A model server on 127.0.0.1 that speaks the OpenAI Chat Completions API
 * (`POST /v1/chat/completions`) and the Anthropic Messages API (`POST /v1/messages`), streamed
 * (server-sent events, text and arguments cut in small deltas, calls interleaved) or not, and
 * plays the turns it was given in order. Every request is recorded. Test support only.
 */
export class ModelServer {
  readonly requests: RecordedRequest[] = [];
  private readonly turns: TurnSource[] = [];
  private readonly open = new Set<ServerResponse>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
    private readonly options: { key?: string; whenEmpty?: TurnSource },
  ) {}

  /** `key`: the API key requests must carry; `whenEmpty`: played once the script is used up. */
  static async start(
    options: { turns?: TurnSource[]; key?: string; whenEmpty?: TurnSource } = {},
  ): Promise<ModelServer> {
    const ready: { self?: ModelServer } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () =>
        ready.self?.handle(request.url ?? '', request.headers, chunks, response),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const self = new ModelServer(server, `http://127.0.0.1:${port}`, options);
    ready.self = self;
    self.push(...(options.turns ?? []));
    return self;
  }

  /** The base URL an OpenAI-compatible client is given. */
  get openaiBaseUrl(): string {
    return `${this.url}/v1`;
  }

  /** The base URL an Anthropic client is given. */
  get anthropicBaseUrl(): string {
    return this.url;
  }

  push(...turns: TurnSource[]): void {
    this.turns.push(...turns);
  }

  /** How many scripted turns are still to be played. */
  get remaining(): number {
    return this.turns.length;
  }

  async close(): Promise<void> {
    for (const response of this.open) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(
    path: string,
    headers: IncomingHttpHeaders,
    chunks: Buffer[],
    response: ServerResponse,
  ): void {
    const api =
      path === '/v1/chat/completions'
        ? 'openai'
        : path === '/v1/messages'
          ? 'anthropic'
          : undefined;
    if (!api) return void response.writeHead(404).end('no such route');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return void response.writeHead(400).end('the body is not JSON');
    }
    const key =
      api === 'openai' ? headers.authorization?.replace(/^Bearer /, '') : headers['x-api-key'];
    if (this.options.key !== undefined && key !== this.options.key) {
      return void response.writeHead(401).end(JSON.stringify({ error: { message: 'bad key' } }));
    }
    const recorded: RecordedRequest = {
      api,
      headers,
      body,
      stream: body.stream === true,
      receivedAt: performance.now(),
    };
    this.requests.push(recorded);
    this.open.add(response);
    response.on('close', () => this.open.delete(response));
    response.on('finish', () => (recorded.answeredAt = performance.now()));
    const next = this.turns.shift() ?? this.options.whenEmpty;
    const turn = typeof next === 'function' ? next(recorded) : next;
    if (!turn) {
      response.writeHead(500, { 'content-type': 'application/json' });
      return void response.end(
        JSON.stringify({ error: { message: 'the script has no turn left' } }),
      );
    }
    void play(turn, recorded, response).catch(() => response.destroy());
  }
}

async function play(turn: ScriptedTurn, request: RecordedRequest, response: ServerResponse) {
  if ('hang' in turn) return;
  if ('status' in turn) {
    response.writeHead(turn.status, { 'content-type': 'application/json' });
    return void response.end(
      JSON.stringify({ error: { message: turn.message ?? 'scripted error' } }),
    );
  }
  if ('raw' in turn) {
    response.writeHead(200, {
      'content-type': request.stream ? 'text/event-stream' : 'application/json',
    });
    return void response.end(turn.raw);
  }
  if ('endlessText' in turn) return endless(request, response);
  const outputChars =
    (turn.text ?? '').length +
    (turn.toolCalls ?? []).reduce((sum, call) => sum + argumentsText(call).length, 0);
  const usage = turn.noUsage
    ? undefined
    : (turn.usage ?? {
        inputTokens: Math.ceil(JSON.stringify(request.body.messages ?? []).length / 4),
        outputTokens: Math.ceil(outputChars / 4) + 1,
      });
  const calls = (turn.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${request.api}_${index}_${Math.random().toString(36).slice(2, 8)}`,
    name: call.name,
    arguments: argumentsText(call),
  }));
  const reply = { text: turn.text ?? '', calls, usage };
  const write = request.api === 'openai' ? openai : anthropic;
  if (!request.stream) {
    response.writeHead(200, { 'content-type': 'application/json' });
    return void response.end(JSON.stringify(write.whole(reply, request)));
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of write.events(reply, request)) response.write(event);
  response.end();
}

interface Reply {
  text: string;
  calls: Array<{ id: string; name: string; arguments: string }>;
  usage: { inputTokens: number; outputTokens: number } | undefined;
}

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** Argument pieces of every call, round robin: call 0 piece 0, call 1 piece 0, call 0 piece 1... */
function interleaved(calls: Reply['calls']): Array<{ index: number; text: string }> {
  const cut = calls.map((call) => pieces(call.arguments));
  const out: Array<{ index: number; text: string }> = [];
  for (let round = 0; cut.some((list) => round < list.length); round += 1) {
    cut.forEach((list, index) => {
      const text = list[round];
      if (text !== undefined) out.push({ index, text });
    });
  }
  return out;
}

const openai = {
  whole(reply: Reply, request: RecordedRequest) {
    return {
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      model: request.body.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.text || null,
            ...(reply.calls.length
              ? {
                  tool_calls: reply.calls.map((call) => ({
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  })),
                }
              : {}),
          },
          finish_reason: reply.calls.length ? 'tool_calls' : 'stop',
        },
      ],
      ...(reply.usage
        ? {
            usage: {
              prompt_tokens: reply.usage.inputTokens,
              completion_tokens: reply.usage.outputTokens,
              total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
            },
          }
        : {}),
    };
  },
  *events(reply: Reply, request: RecordedRequest): Generator<string> {
    const chunk = (delta: unknown, finish: string | null = null) =>
      sse({
        id: 'chatcmpl-scripted',
        object: 'chat.completion.chunk',
        model: request.body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    yield chunk({ role: 'assistant', content: '' });
    for (const text of pieces(reply.text)) yield chunk({ content: text });
    for (const [index, call] of reply.calls.entries()) {
      yield chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      });
    }
    for (const { index, text } of interleaved(reply.calls)) {
      yield chunk({ tool_calls: [{ index, function: { arguments: text } }] });
    }
    yield chunk({}, reply.calls.length ? 'tool_calls' : 'stop');
    if (reply.usage) {
      yield sse({
        id: 'chatcmpl-scripted',
        object: 'chat.completion.chunk',
        choices: [],
        usage: {
          prompt_tokens: reply.usage.inputTokens,
          completion_tokens: reply.usage.outputTokens,
        },
      });
    }
    yield sse('[DONE]');
  },
};

const anthropic = {
  whole(reply: Reply, request: RecordedRequest) {
    return {
      id: 'msg_scripted',
      type: 'message',
      role: 'assistant',
      model: request.body.model,
      content: [
        ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
        ...reply.calls.map((call) => ({
          type: 'tool_use',
          id: call.id,
          name: call.name,
          input: parsedOrRaw(call.arguments),
        })),
      ],
      stop_reason: reply.calls.length ? 'tool_use' : 'end_turn',
      ...(reply.usage
        ? {
            usage: {
              input_tokens: reply.usage.inputTokens,
              output_tokens: reply.usage.outputTokens,
            },
          }
        : {}),
    };
  },
  *events(reply: Reply, request: RecordedRequest): Generator<string> {
    const event = (type: string, data: Record<string, unknown>) => sse({ type, ...data }, type);
    yield event('message_start', {
      message: {
        id: 'msg_scripted',
        type: 'message',
        role: 'assistant',
        model: request.body.model,
        content: [],
        stop_reason: null,
        ...(reply.usage
          ? { usage: { input_tokens: reply.usage.inputTokens, output_tokens: 1 } }
          : {}),
      },
    });
    yield event('ping', {});
    let index = 0;
    if (reply.text) {
      yield event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const text of pieces(reply.text)) {
        yield event('content_block_delta', { index, delta: { type: 'text_delta', text } });
      }
      yield event('content_block_stop', { index });
      index += 1;
    }
    for (const call of reply.calls) {
      yield event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
      });
      for (const text of pieces(call.arguments)) {
        yield event('content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: text },
        });
      }
      yield event('content_block_stop', { index });
      index += 1;
    }
    yield event('message_delta', {
      delta: { stop_reason: reply.calls.length ? 'tool_use' : 'end_turn', stop_sequence: null },
      ...(reply.usage ? { usage: { output_tokens: reply.usage.outputTokens } } : {}),
    });
    yield event('message_stop', {});
  },
};

function parsedOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Text that never ends, written as fast as the client reads, until it hangs up. */
async function endless(request: RecordedRequest, response: ServerResponse): Promise<void> {
  const filler = 'all work and no play '.repeat(800);
  response.writeHead(200, {
    'content-type': request.stream ? 'text/event-stream' : 'application/json',
  });
  const unit = request.stream
    ? request.api === 'openai'
      ? sse({ choices: [{ index: 0, delta: { content: filler }, finish_reason: null }] })
      : sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: filler } })
    : filler;
  if (request.stream && request.api === 'anthropic') {
    response.write(sse({ type: 'message_start', message: { usage: { input_tokens: 1 } } }));
    response.write(
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    );
  }
  if (!request.stream) response.write('{"choices":[{"message":{"content":"');
  while (!response.destroyed && !response.writableEnded) {
    if (!response.write(unit)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
    }
  }
}
