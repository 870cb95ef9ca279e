import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentTaskFixture, transcriptFixture } from '../testing/agent-fixtures.js';
import { ignore, markup } from '../testing/markup.js';
import { appendLines, emptyTranscript } from '../transcript.js';
import { AgentTaskView, type AgentTaskViewProps } from './AgentTaskView.js';

const id = 'agt_oneaaaaaaaaaaaaa';

function page(extra: Partial<AgentTaskViewProps>): string {
  return markup(
    <AgentTaskView
      id={id}
      task={{ kind: 'loading' }}
      environmentName="alpha"
      transcript={emptyTranscript}
      follow={{ kind: 'connecting' }}
      stop={{ busy: false, error: null, onStop: ignore }}
      {...extra}
    />,
  );
}

test('agent task: loading and error states', () => {
  const loading = page({});
  assert.match(loading, /<h1>Agent task <code>agt_one/);
  assert.match(loading, /role="status">Loading the agent task…</);
  const failed = page({ task: { kind: 'error', message: 'agent task agt_one is not found' } });
  assert.match(
    failed,
    /role="alert">Could not load the agent task: agent task agt_one is not found/,
  );
  assert.doesNotMatch(failed, /Transcript/);
  const later = page({
    task: { kind: 'error', message: 'the control plane could not be reached' },
    transcript: appendLines(emptyTranscript, transcriptFixture.slice(0, 2)),
    follow: { kind: 'live' },
  });
  assert.match(later, /role="alert">Could not load the agent task/);
  assert.match(later, /data-entry="prompt"/, 'what was read stays in view');
});

test('agent task: a running task shows its counts against its limits and can be stopped', () => {
  const task = agentTaskFixture('one', 'running');
  const html = page({ task: { kind: 'ready', data: task }, follow: { kind: 'live' } });
  assert.match(html, /data-state="running">running</);
  assert.match(html, /<button type="button" class="danger">Stop task<\/button>/);
  assert.match(html, /<caption>Counts and limits<\/caption>/);
  assert.match(html, /<th scope="row">Steps<\/th><td>4<\/td><td>50<\/td>/);
  assert.match(html, /<th scope="row">Tokens in<\/th><td>1200<\/td>/);
  assert.match(html, /<th scope="row">Tokens out<\/th><td>80<\/td>/);
  assert.match(html, /<th scope="row">Tokens in all<\/th><td>1280<\/td><td>500000<\/td>/);
  assert.match(html, /<th scope="row">Tool calls<\/th><td>0<\/td>/);
  assert.match(html, /<th scope="row">Command timeout \(seconds\)<\/th><td>—<\/td><td>600<\/td>/);
  assert.match(html, /<a href="\/environments\/env_alpha[a]+">alpha<\/a>/);
  assert.match(html, /<dd>run_command, read_file, finish<\/dd>/);
  assert.match(html, /<dd>not yet<\/dd>/);
  assert.match(html, /No entries yet/);
});

test('agent task: an ended task has no stop, and counts come from its transcript', () => {
  const task = { ...agentTaskFixture('one', 'limit_reached'), reason: 'maxSteps' };
  const transcript = appendLines(emptyTranscript, transcriptFixture);
  const html = page({ task: { kind: 'ready', data: task }, transcript, follow: { kind: 'done' } });
  assert.match(
    html,
    /data-state="limit_reached">limit_reached<\/span> — reason: <code>maxSteps<\/code>/,
  );
  assert.doesNotMatch(html, /Stop task/);
  assert.match(html, /<th scope="row">Tool calls<\/th><td>2<\/td>/);
  assert.match(html, /<th scope="row">Malformed model outputs<\/th><td>1<\/td>/);
  assert.match(html, /<th scope="row">Wall time \(seconds\)<\/th><td>30<\/td><td>3600<\/td>/);
  assert.match(html, /data-entry="end"/);
});

test('agent task: stopping is busy, and a refused stop is announced', () => {
  const task = { kind: 'ready' as const, data: agentTaskFixture('one', 'running') };
  const busy = page({ task, stop: { busy: true, error: null, onStop: ignore } });
  assert.match(busy, /disabled="">Stopping…</);
  const refused = page({
    task,
    stop: { busy: false, error: 'Could not stop the task: it has ended', onStop: ignore },
  });
  assert.match(refused, /role="alert">Could not stop the task: it has ended</);
});

test('agent task: the environment id stands in for an unknown name', () => {
  const task = agentTaskFixture('one', 'queued');
  const html = page({ task: { kind: 'ready', data: task }, environmentName: undefined });
  assert.match(html, />env_alpha[a]+<\/a>/);
});

test('agent task: while the record waits for a report, the counts follow the transcript', () => {
  const task = { ...agentTaskFixture('one', 'running'), steps: 0, inputTokens: 0, outputTokens: 0 };
  const transcript = appendLines(emptyTranscript, transcriptFixture.slice(0, 4));
  const html = page({ task: { kind: 'ready', data: task }, transcript, follow: { kind: 'live' } });
  assert.match(html, /<th scope="row">Steps<\/th><td>1<\/td><td>50<\/td>/);
  assert.match(html, /<th scope="row">Tokens in<\/th><td>300<\/td>/);
  assert.match(html, /<th scope="row">Tokens out<\/th><td>20<\/td>/);
  assert.match(html, /<th scope="row">Tool calls<\/th><td>2<\/td>/);
});
