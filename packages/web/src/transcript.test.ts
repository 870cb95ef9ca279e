import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transcriptFixture } from './testing/agent-fixtures.js';
import { appendLines, emptyTranscript, outputKeptChars, parseLine } from './transcript.js';

test('transcript: each tool result joins its call, and the counts follow the lines', () => {
  const model = appendLines(emptyTranscript, transcriptFixture);
  assert.deepEqual(
    model.items.map((item) => item.kind),
    ['prompt', 'turn', 'malformed', 'command', 'output', 'error', 'end'],
  );
  const turn = model.items[1];
  assert.equal(turn?.kind, 'turn');
  if (turn?.kind !== 'turn') return;
  assert.equal(turn.calls[0]?.result?.result, 'module.exports = (a, b) => a - b;');
  assert.equal(turn.calls[1]?.result?.isError, true);
  assert.equal(turn.calls[1]?.result?.commandMs, 45);
  assert.equal(model.toolCalls, 2);
  assert.equal(model.malformed, 1);
  assert.equal(model.ended?.state, 'succeeded');
  const output = model.items[4];
  assert.equal(output?.kind === 'output' && output.droppedBytes, 2048);
});

test('transcript: adding lines keeps untouched items and never changes the model given', () => {
  const first = appendLines(emptyTranscript, transcriptFixture.slice(0, 2));
  const turnBefore = first.items[1];
  const prompt = first.items[0];
  const second = appendLines(first, transcriptFixture.slice(2, 3));
  assert.equal(second.items[0], prompt, 'the prompt is the same object');
  assert.notEqual(second.items[1], turnBefore, 'the turn with a new result is a new object');
  assert.equal(turnBefore?.kind === 'turn' && turnBefore.calls[0]?.result, undefined);
  assert.equal(first.toolCalls, 0);
  assert.equal(appendLines(second, []), second);
  assert.equal(emptyTranscript.items.length, 0);
});

test('transcript: a result whose call was not seen is shown on its own', () => {
  const [, , result] = transcriptFixture;
  assert.ok(result);
  const model = appendLines(emptyTranscript, [result]);
  assert.equal(model.items[0]?.kind, 'result');
});

test('transcript: output is one block that keeps its newest part', () => {
  const chunk = 'x'.repeat(1024);
  const lines = Array.from({ length: 100 }, (_, index) => ({
    time: '2026-12-04T10:00:00.000Z',
    type: 'output' as const,
    text: index === 99 ? 'the end' : chunk,
  }));
  const model = appendLines(emptyTranscript, lines);
  assert.equal(model.items.length, 1);
  const block = model.items[0];
  assert.equal(block?.kind, 'output');
  if (block?.kind !== 'output') return;
  assert.equal(block.text.length, outputKeptChars);
  assert.ok(block.text.endsWith('the end'));
  assert.equal(block.droppedBytes, 99 * 1024 + 'the end'.length - outputKeptChars);
});

test('transcript: a line that is not an entry is kept as text', () => {
  assert.deepEqual(parseLine('not json'), { type: 'unreadable', text: 'not json' });
  assert.deepEqual(parseLine('[1,2]'), { type: 'unreadable', text: '[1,2]' });
  const later = appendLines(emptyTranscript, [
    parseLine('{"time":"2026-12-04T10:00:00.000Z","type":"thought","text":"hm"}'),
  ]);
  assert.equal(later.items[0]?.kind, 'unreadable');
});

test('transcript: ten thousand turns with large results fold quickly', () => {
  const result = 'r'.repeat(16 * 1024);
  const lines = Array.from({ length: 10_000 }, (_, index) => [
    {
      time: '2026-12-04T10:00:00.000Z',
      type: 'model' as const,
      step: index + 1,
      text: '',
      toolCalls: [{ id: `c${index}`, name: 'read_file', arguments: '{"path":"a"}' }],
      usage: { inputTokens: 1, outputTokens: 1 },
      durationMs: 1,
    },
    {
      time: '2026-12-04T10:00:00.000Z',
      type: 'tool' as const,
      step: index + 1,
      callId: `c${index}`,
      name: 'read_file',
      isError: false,
      result,
      elapsedMs: 1,
    },
  ]).flat();
  const started = performance.now();
  let model = emptyTranscript;
  for (let at = 0; at < lines.length; at += 500) {
    model = appendLines(model, lines.slice(at, at + 500));
  }
  const elapsedMs = performance.now() - started;
  assert.equal(model.items.length, 10_000);
  assert.equal(model.toolCalls, 10_000);
  assert.ok(elapsedMs < 2000, `folding took ${Math.round(elapsedMs)} ms`);
});
