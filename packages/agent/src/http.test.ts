import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxSseLineChars, sseEvents } from './http.js';
import { ModelError } from './model-error.js';

function streamed(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body);
}

async function collect(response: Response) {
  const events = [];
  for await (const event of sseEvents(response)) events.push(event);
  return events;
}

test('events split across chunks at any point come out whole', async () => {
  const text = 'event: a\r\ndata: {"x":1}\n\n: comment\ndata: line1\ndata: line2\n\n';
  for (let cut = 1; cut < text.length; cut += 1) {
    const events = await collect(streamed([text.slice(0, cut), text.slice(cut)]));
    assert.deepEqual(events, [
      { event: 'a', data: '{"x":1}' },
      { event: undefined, data: 'line1\nline2' },
    ]);
  }
});

test('a line that never ends is refused as a protocol fault, not buffered without bound', async () => {
  const piece = 'x'.repeat(64 * 1024);
  const chunks = [
    'data: ',
    ...Array.from({ length: maxSseLineChars / piece.length + 2 }, () => piece),
  ];
  await assert.rejects(collect(streamed(chunks)), (error: unknown) => {
    assert.ok(error instanceof ModelError);
    assert.match(error.message, /longer than/);
    return true;
  });
});
