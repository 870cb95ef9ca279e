import { memo, useId, useState } from 'react';
import type { ToolCall, TranscriptItem, TranscriptModel } from '../transcript.js';
import type { FollowStatus } from '../transcript-stream.js';
import { ErrorNote } from './common.js';
import { counted } from './words.js';

/** Text longer than this shows in a scrolling box, so one large result does not fill the page. */
const longChars = 2000;
const longLines = 30;

/**
 * How many entries are shown at first, the newest; each press of the button shows this many
 * more. A task of thousands of steps would otherwise put hundreds of megabytes into the page.
 */
export const entriesShown = 200;

/** Model arguments are not capped by the runner; the page shows at most this much of them. */
export const argumentsShownChars = 64 * 1024;

/** A block of text; a long one scrolls in a box that the keyboard can reach. */
function Text({ text, label, className }: { text: string; label: string; className?: string }) {
  const long = text.length > longChars || text.split('\n', longLines + 1).length > longLines;
  const classes = [className, long ? 'long' : undefined].filter(Boolean).join(' ') || undefined;
  if (!long) return <pre className={classes}>{text}</pre>;
  return (
    <pre className={classes} tabIndex={0} role="region" aria-label={label}>
      {text}
    </pre>
  );
}

/** A tool call's arguments, indented when they are JSON. */
export function argumentsText(raw: string): string {
  let text = raw;
  try {
    text = JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    // Not JSON (a malformed call): shown as the model wrote it.
  }
  if (text.length <= argumentsShownChars) return text;
  const rest = text.length - argumentsShownChars;
  return `${text.slice(0, argumentsShownChars)}\n… ${rest} more characters not shown`;
}

/**
 * What stands where a call's result will be. `finish` gets none (it ends the task), nor does a
 * call the task's rules refused (a malformed entry says why), nor one the task ended during:
 * once a later turn or the end arrived, the turn is `settled` and waits no more.
 */
function NoResult({ call, settled }: { call: ToolCall; settled: boolean }) {
  if (call.name === 'finish') return <p className="note">Ends the task.</p>;
  if (settled) return <p className="note">No result.</p>;
  return <p className="waiting">Waiting for the result…</p>;
}

function CallView({ call, step, settled }: { call: ToolCall; step: number; settled: boolean }) {
  const { result } = call;
  return (
    <li className="call" data-tool={call.name}>
      <p>
        Tool call <code>{call.name}</code>
      </p>
      {call.arguments ? (
        <Text
          text={argumentsText(call.arguments)}
          label={`Arguments of ${call.name}, step ${step}`}
          className="arguments"
        />
      ) : null}
      {result ? (
        <div
          className={result.isError ? 'result result-error' : 'result'}
          data-error={result.isError}
        >
          <p>
            {result.isError ? <strong>Error</strong> : 'Result'} ({Math.round(result.elapsedMs)} ms
            {result.commandMs !== undefined ? `, command ${Math.round(result.commandMs)} ms` : ''})
          </p>
          <Text text={result.result} label={`Result of ${call.name}, step ${step}`} />
        </div>
      ) : (
        <NoResult call={call} settled={settled} />
      )}
    </li>
  );
}

function EndView({ entry }: { entry: Extract<TranscriptItem, { kind: 'end' }>['entry'] }) {
  const counts = [
    entry.steps !== undefined ? counted(entry.steps, 'step') : undefined,
    entry.toolCalls !== undefined ? counted(entry.toolCalls, 'tool call') : undefined,
    entry.inputTokens !== undefined ? `${entry.inputTokens} tokens in` : undefined,
    entry.outputTokens !== undefined ? `${entry.outputTokens} tokens out` : undefined,
    entry.malformed ? `${entry.malformed} malformed` : undefined,
  ].filter(Boolean);
  return (
    <>
      <p>
        <strong>Ended: </strong>
        <span className={`state state-${entry.state}`} data-state={entry.state}>
          {entry.state}
        </span>
        {entry.reason ? ` (${entry.reason})` : ''}
        {counts.length > 0 ? ` — ${counts.join(', ')}` : ''}
      </p>
      {entry.summary ? <Text text={entry.summary} label="Summary" /> : null}
    </>
  );
}

function ItemBody({ item, settled }: { item: TranscriptItem; settled: boolean }) {
  switch (item.kind) {
    case 'prompt':
      return (
        <>
          <p className="entry-label">Prompt</p>
          <Text text={item.text} label="Prompt" />
        </>
      );
    case 'turn':
      return (
        <>
          <p className="entry-label">
            Step {item.step}: the model ({item.usage.inputTokens} tokens in,{' '}
            {item.usage.outputTokens} out, {Math.round(item.durationMs)} ms)
          </p>
          {item.text ? (
            <Text text={item.text} label={`What the model said, step ${item.step}`} />
          ) : null}
          {item.calls.length > 0 ? (
            <ul className="calls">
              {item.calls.map((call) => (
                <CallView key={call.id} call={call} step={item.step} settled={settled} />
              ))}
            </ul>
          ) : null}
        </>
      );
    case 'result':
      return (
        <ul className="calls">
          <CallView call={item.call} step={item.step} settled />
        </ul>
      );
    case 'malformed':
      return (
        <p className="error">
          Step {item.step}: malformed model output, answered with an error: {item.message}
        </p>
      );
    case 'command':
      return (
        <p className="entry-label">
          Command <code>{item.argv.join(' ')}</code> (process {item.processId})
        </p>
      );
    case 'output':
      return (
        <>
          {item.droppedBytes > 0 ? (
            <p className="note">{item.droppedBytes} bytes of earlier output are not shown.</p>
          ) : null}
          <Text text={item.text} label="Command output" className="output" />
        </>
      );
    case 'error':
      return <p className="error">Error: {item.message}</p>;
    case 'end':
      return <EndView entry={item.entry} />;
    case 'unreadable':
      return <Text text={item.text} label="Unrecognized line" />;
  }
}

/** One entry; rendered again only when it changes (a tool result arriving, a later turn). */
const Entry = memo(function Entry({ item, settled }: { item: TranscriptItem; settled: boolean }) {
  const isError =
    item.kind === 'error' ||
    item.kind === 'malformed' ||
    (item.kind === 'result' && item.call.result?.isError === true);
  return (
    <li
      className={`entry entry-${item.kind}${isError ? ' entry-error' : ''}`}
      data-entry={item.kind}
    >
      <ItemBody item={item} settled={settled} />
    </li>
  );
});

function StatusNote({ status }: { status: FollowStatus }) {
  switch (status.kind) {
    case 'connecting':
      return <p role="status">Connecting to the runner…</p>;
    case 'live':
      return <p role="status">Live from the runner.</p>;
    case 'reconnecting':
      return <p role="status">The stream dropped ({status.reason}); connecting again…</p>;
    case 'done':
      return <p role="status">The whole transcript is shown.</p>;
    case 'failed':
      return <ErrorNote>Could not read the transcript: {status.message}</ErrorNote>;
  }
}

export interface TranscriptViewProps {
  transcript: TranscriptModel;
  status: FollowStatus;
}

/** The task's transcript as its runner wrote it, growing while the task runs. */
export function TranscriptView({ transcript, status }: TranscriptViewProps) {
  const id = useId();
  const [earlier, setEarlier] = useState(0);
  const { items } = transcript;
  const lastTurn =
    transcript.ended || status.kind === 'done'
      ? Infinity
      : items.findLastIndex((item) => item.kind === 'turn');
  const from = Math.max(0, items.length - entriesShown - earlier);
  return (
    <section aria-labelledby={`${id}-title`} className="transcript">
      <h2 id={`${id}-title`}>Transcript</h2>
      <StatusNote status={status} />
      {from > 0 ? (
        <button type="button" onClick={() => setEarlier(earlier + entriesShown)}>
          Show {Math.min(from, entriesShown)} earlier entries ({from} not shown)
        </button>
      ) : null}
      {items.length === 0 ? (
        <p>No entries yet.</p>
      ) : (
        <div role="log" aria-labelledby={`${id}-title`}>
          <ol className="entries">
            {items.slice(from).map((item, index) => (
              <Entry key={item.key} item={item} settled={from + index < lastTurn} />
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
