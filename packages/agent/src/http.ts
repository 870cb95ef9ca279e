import { setTimeout as sleep } from 'node:timers/promises';
import { ModelError } from './model-error.js';

/** The most bytes a model reply may carry on the wire, streamed or not. */
export const maxResponseBytes = 32 * 1024 * 1024;

/** The most text and tool arguments one turn may hold: far above any sane turn. */
export const maxTurnChars = 1024 * 1024;

/**
 * The most tool calls one reply may make before it is refused whole: far above the calls the loop
 * runs a turn (the rest are answered one by one), so a reply of thousands of calls is not kept.
 */
export const maxReplyToolCalls = 256;

/** Refuses a reply once it holds more than {@link maxReplyToolCalls} tool calls. */
export function checkToolCallCount(calls: number): void {
  if (calls > maxReplyToolCalls) {
    throw new ModelError(
      'output_too_large',
      `the model's reply made more than ${maxReplyToolCalls} tool calls and was refused; make ` +
        'a few calls a reply',
    );
  }
}

/** Refuses a turn whose text and arguments together pass {@link maxTurnChars}. */
export function checkTurnSize(chars: number): void {
  if (chars > maxTurnChars) {
    throw new ModelError(
      'output_too_large',
      `the model's reply passed ${maxTurnChars} characters of text and arguments and was cut off`,
    );
  }
}

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  /** Attempts after the first for an unreachable or overloaded server; 2 when absent. */
  retries?: number;
}

const backoffMs = (attempt: number) => Math.min(4000, 250 * 2 ** attempt);

function abortedError(cause: unknown): ModelError {
  return new ModelError('aborted', 'the model request was aborted', { cause });
}

/**
 * POSTs JSON and resolves with a 2xx response whose body is still unread. An unreachable
 * server, 429 and 5xx answers are tried again after 250 ms, 500 ms, ... (at most 4 s); any
 * other answer rejects at once with its status and the start of its body.
 */
export async function postJson(options: PostOptions): Promise<Response> {
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt += 1) {
    let failure: ModelError;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify(options.body),
        signal: options.signal,
      });
      if (response.ok) return response;
      failure = await statusError(response);
    } catch (error) {
      if (options.signal.aborted) throw abortedError(error);
      failure = new ModelError(
        'unreachable',
        `the model server at ${options.url} cannot be reached (${causeText(error)}); check ` +
          'the base URL and that the server runs',
        { cause: error },
      );
    }
    if (!failure.retryable || attempt >= retries) throw failure;
    try {
      await sleep(backoffMs(attempt), undefined, { signal: options.signal });
    } catch (error) {
      throw abortedError(error);
    }
  }
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

async function statusError(response: Response): Promise<ModelError> {
  const text = await readText(response, 4096).catch(() => '');
  const code = response.status === 429 || response.status >= 500 ? 'server_error' : 'refused';
  const snippet = text.replace(/\s+/g, ' ').slice(0, 300);
  return new ModelError(
    code,
    `the model server answered HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`,
    { status: response.status },
  );
}

/** The body's bytes as they come, refused past `maxBytes` with `output_too_large`. */
export async function* bodyChunks(
  response: Response,
  maxBytes = maxResponseBytes,
): AsyncGenerator<Uint8Array> {
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > maxBytes) {
        throw new ModelError(
          'output_too_large',
          `the model's reply passed ${maxBytes} bytes and was cut off`,
        );
      }
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export async function readText(response: Response, maxBytes = maxResponseBytes): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of bodyChunks(response, maxBytes)) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await readText(response);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelError('protocol', 'the model server sent a reply that is not JSON', {
      cause: error,
    });
  }
}

/** The longest line of a streamed reply: an event's data arrives in many short lines. */
export const maxSseLineChars = 1024 * 1024;

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Server-sent events of a streamed reply, in order (comments and other fields skipped). Lines end
 * with LF or CRLF; a lone CR is not a line end here.
 */
export async function* sseEvents(response: Response): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  const lineOf = function* (line: string): Generator<SseEvent> {
    if (line === '') {
      if (data.length > 0) yield { event, data: data.join('\n') };
      event = undefined;
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  for await (const chunk of bodyChunks(response)) {
    // Only the new text is searched for a line end, so a line that never ends costs linear time.
    let from = buffer.length;
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n', from)) !== -1) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      from = 0;
      yield* lineOf(line);
    }
    if (buffer.length > maxSseLineChars) {
      throw new ModelError(
        'protocol',
        `the model stream sent a line longer than ${maxSseLineChars} characters`,
      );
    }
  }
  buffer += decoder.decode();
  if (buffer !== '') yield* lineOf(buffer.replace(/\r$/, ''));
  yield* lineOf('');
}

/** Parses one event's JSON data; a garbled event is the model server's protocol fault. */
export function eventJson(event: SseEvent): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(event.data);
  } catch (error) {
    throw new ModelError('protocol', 'the model stream sent an event that is not JSON', {
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError('protocol', 'the model stream sent an event that is not a JSON object');
  }
  return value as Record<string, unknown>;
}
