import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transcriptFixture } from '../testing/agent-fixtures.js';
import { markup } from '../testing/markup.js';
import { appendLines, emptyTranscript, type ReadLine } from '../transcript.js';
import type { FollowStatus } from '../transcript-stream.js';
import {
  argumentsShownChars,
  argumentsText,
  entriesShown,
  TranscriptView,
} from './TranscriptView.js';

function view(lines: ReadLine[], status: FollowStatus = { kind: 'live' }): string {
  return markup(
    <TranscriptView transcript={appendLines(emptyTranscript, lines)} status={status} />,
  );
}

test('transcript view: connecting, empty, reconnecting and refused', () => {
  const connecting = view([], { kind: 'connecting' });
  assert.match(connecting, /role="status">Connecting to the runner…</);
  assert.match(connecting, /No entries yet/);
  assert.doesNotMatch(connecting, /role="log"/);
  assert.match(
    view([], { kind: 'reconnecting', reason: 'Failed to fetch' }),
    /role="status">The stream dropped \(Failed to fetch\); connecting again…</,
  );
  assert.match(
    view([], { kind: 'failed', message: 'only the owner may read it' }),
    /role="alert">Could not read the transcript: only the owner may read it</,
  );
  assert.match(view([], { kind: 'done' }), /The whole transcript is shown/);
});

/** The markup holds these pieces, one after the other with nothing between. */
function assertHas(html: string, ...pieces: string[]): void {
  const expected = pieces.join('');
  assert.ok(html.includes(expected), `${expected}\nis not in\n${html}`);
}

test('transcript view: every entry kind', () => {
  const html = view(transcriptFixture);
  assert.match(html, /<h2 id="[^"]+">Transcript<\/h2>/);
  assert.match(html, /role="log" aria-labelledby=/);
  assertHas(
    html,
    'data-entry="prompt"><p class="entry-label">Prompt</p>',
    '<pre>Fix the failing test in test.js</pre>',
  );
  assert.match(html, /Step 1: the model \(300 tokens in, 20 out, 120 ms\)/);
  assert.match(html, /<pre>Looking at the code.<\/pre>/);
  // Each call with its arguments and its result; the failed one marked.
  assertHas(
    html,
    'data-tool="read_file"><p>Tool call <code>read_file</code></p>',
    '<pre class="arguments">{\n  &quot;path&quot;: &quot;add.js&quot;\n}</pre>',
    '<div class="result" data-error="false"><p>Result (4 ms)</p>',
    '<pre>module.exports = (a, b) =&gt; a - b;</pre>',
  );
  assertHas(
    html,
    '<div class="result result-error" data-error="true">',
    '<p><strong>Error</strong> (50 ms, command 45 ms)</p>',
    '<pre>exit code 1\nFAIL: add(2, 3) is -1</pre>',
  );
  assertHas(
    html,
    'data-entry="malformed"><p class="error">Step 2: malformed model output, answered with an ',
    'error: the arguments of write_file are not JSON</p>',
  );
  assert.match(html, /Command <code>aider --yes<\/code> \(process prc_1\)/);
  assertHas(
    html,
    '<p class="note">2048 bytes of earlier output are not shown.</p>',
    '<pre class="output">aider: reading files\n</pre>',
  );
  assert.match(html, /<p class="error">Error: the model server answered 500<\/p>/);
  assertHas(
    html,
    'data-entry="end"><p><strong>Ended: </strong>',
    '<span class="state state-succeeded" data-state="succeeded">succeeded</span>',
    ' — 4 steps, 2 tool calls, 1200 tokens in, 80 tokens out, 1 malformed</p>',
    '<pre>add now adds</pre>',
  );
  assert.doesNotMatch(html, /Waiting for the result/);
});

test('transcript view: a running call waits for its result; a stray result stands alone', () => {
  const [prompt, turn, , result] = transcriptFixture;
  assert.ok(prompt && turn && result);
  const html = view([prompt, turn]);
  assert.equal(html.match(/Waiting for the result…/g)?.length, 2);
  const finish = {
    time: '2026-12-04T10:00:09.000Z',
    type: 'model' as const,
    step: 2,
    text: '',
    toolCalls: [{ id: 'call_9', name: 'finish', arguments: '{"summary":"done"}' }],
    usage: { inputTokens: 1, outputTokens: 1 },
    durationMs: 1,
  };
  const later = view([prompt, turn, finish]);
  assert.equal(later.match(/No result\./g)?.length, 2, 'a later turn settles the calls before it');
  assert.match(later, /data-tool="finish">.*Ends the task\./s);
  assert.doesNotMatch(later, /Waiting for the result/);
  assert.equal(view([prompt, turn], { kind: 'done' }).match(/No result\./g)?.length, 2);
  const stray = view([result]);
  assert.match(
    stray,
    /data-entry="result"[^>]*entry-error|entry-result entry-error" data-entry="result"/,
  );
  assert.match(stray, /Tool call <code>run_command<\/code>/);
});

test('transcript view: a long result scrolls in a focusable box; huge arguments are cut', () => {
  const long = 'line of output\n'.repeat(1100);
  const html = view([
    {
      time: '2026-12-04T10:00:00.000Z',
      type: 'model',
      step: 3,
      text: '',
      toolCalls: [{ id: 'c9', name: 'write_file', arguments: 'x'.repeat(argumentsShownChars + 5) }],
      usage: { inputTokens: 1, outputTokens: 1 },
      durationMs: 1,
    },
    {
      time: '2026-12-04T10:00:01.000Z',
      type: 'tool',
      step: 3,
      callId: 'c9',
      name: 'write_file',
      isError: false,
      result: long,
      elapsedMs: 2,
    },
  ]);
  assert.match(
    html,
    /<pre class="long" tabindex="0" role="region" aria-label="Result of write_file, step 3">/,
  );
  assert.ok(html.includes(long), 'the result is shown whole (the runner caps it)');
  assert.match(html, /… 5 more characters not shown/);
  assert.equal(argumentsText('{"a":1}'), '{\n  "a": 1\n}');
  assert.equal(argumentsText('{not json'), '{not json');
});

test('transcript view: an unreadable line is shown as it came', () => {
  const html = view([{ type: 'unreadable', text: 'garbage <b>' }]);
  assert.match(html, /data-entry="unreadable"><pre>garbage &lt;b&gt;<\/pre>/);
});

test('transcript view: a long transcript shows its newest entries, and earlier ones on request', () => {
  const errors = Array.from({ length: entriesShown + 50 }, (_, index) => ({
    time: '2026-12-04T10:00:00.000Z',
    type: 'error' as const,
    message: `error number ${index}`,
  }));
  const html = view(errors);
  assert.equal(html.match(/data-entry="error"/g)?.length, entriesShown);
  assert.doesNotMatch(html, /error number 49</);
  assert.match(html, /error number 50</);
  assert.match(html, /<button type="button">Show 50 earlier entries \(50 not shown\)<\/button>/);
  assert.doesNotMatch(view(errors.slice(0, entriesShown)), /earlier entries/);
});
