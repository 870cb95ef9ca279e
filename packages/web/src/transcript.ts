import type { TranscriptLine } from './gateway.js';

/** A line the runner sent that is not a transcript entry this page knows: shown as text. */
export interface UnreadableLine {
  type: 'unreadable';
  text: string;
}

export type ReadLine = TranscriptLine | UnreadableLine;

type Entry<T extends TranscriptLine['type']> = Extract<TranscriptLine, { type: T }>;

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
  /** Absent until the tool answered. */
  result?: Pick<Entry<'tool'>, 'isError' | 'result' | 'elapsedMs' | 'commandMs' | 'time'>;
}

/** One thing the transcript shows. Each item keeps its identity until it changes. */
export type TranscriptItem = { key: number } & (
  | { kind: 'prompt'; time: string; text: string }
  | {
      kind: 'turn';
      time: string;
      step: number;
      text: string;
      usage: Entry<'model'>['usage'];
      durationMs: number;
      calls: ToolCall[];
    }
  | { kind: 'result'; time: string; step: number; call: ToolCall }
  | { kind: 'malformed'; time: string; step: number; message: string }
  | { kind: 'command'; time: string; processId: string; argv: string[] }
  | { kind: 'output'; time: string; text: string; droppedBytes: number }
  | { kind: 'error'; time: string; message: string }
  | { kind: 'end'; entry: Entry<'end'> }
  | { kind: 'unreadable'; text: string }
);

export interface TranscriptModel {
  items: readonly TranscriptItem[];
  /** Where each tool call is: the index of its turn in `items`. */
  callAt: ReadonlyMap<string, number>;
  /** Counted from the lines, so they move while the control plane's record waits for a report. */
  steps: number;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  malformed: number;
  ended: Entry<'end'> | undefined;
}

export const emptyTranscript: TranscriptModel = {
  items: [],
  callAt: new Map(),
  steps: 0,
  inputTokens: 0,
  outputTokens: 0,
  toolCalls: 0,
  malformed: 0,
  ended: undefined,
};

/**
 * How much of a command's output one block keeps: the newest part. The runner caps each entry;
 * a command task writes many, and the page must stay quick however long it runs.
 */
export const outputKeptChars = 64 * 1024;

/** A line as the gateway sent it: a transcript entry, or the text itself when it is not one. */
export function parseLine(line: string): ReadLine {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && 'type' in value && 'time' in value) {
      return value as TranscriptLine;
    }
  } catch {
    // Not JSON: shown as it is.
  }
  return { type: 'unreadable', text: line };
}

function appendOutput(items: TranscriptItem[], line: Entry<'output'> | Entry<'output-gap'>) {
  const last = items.at(-1);
  const block =
    last?.kind === 'output'
      ? last
      : { kind: 'output' as const, key: items.length, time: line.time, text: '', droppedBytes: 0 };
  let text = block.text;
  let droppedBytes = block.droppedBytes;
  if (line.type === 'output') text += line.text;
  else droppedBytes += line.bytes;
  if (text.length > outputKeptChars) {
    droppedBytes += new TextEncoder().encode(text.slice(0, -outputKeptChars)).length;
    text = text.slice(-outputKeptChars);
  }
  const next = { ...block, text, droppedBytes };
  if (last?.kind === 'output') items[items.length - 1] = next;
  else items.push(next);
}

/** A model being added to: its own copies of the list and the index, changed in place. */
type Draft = TranscriptModel & { items: TranscriptItem[]; callAt: Map<string, number> };

/** Adds one line to the draft, keeping every item it does not touch as it was. */
function appendLine(model: Draft, line: ReadLine) {
  const { items } = model;
  const key = items.length;
  switch (line.type) {
    case 'prompt':
      items.push({ kind: 'prompt', key, time: line.time, text: line.text });
      return;
    case 'error':
      items.push({ kind: 'error', key, time: line.time, message: line.message });
      return;
    case 'model': {
      const calls = line.toolCalls.map(({ id, name, arguments: args }) => ({
        id,
        name,
        arguments: args,
      }));
      for (const call of calls) model.callAt.set(call.id, key);
      const { step, text, usage, durationMs, time } = line;
      model.steps = Math.max(model.steps, step);
      model.inputTokens += usage.inputTokens;
      model.outputTokens += usage.outputTokens;
      items.push({ kind: 'turn', key, time, step, text, usage, durationMs, calls });
      return;
    }
    case 'tool': {
      model.toolCalls += 1;
      const { isError, result, elapsedMs, commandMs, time } = line;
      const answer = { isError, result, elapsedMs, time, ...(commandMs ? { commandMs } : {}) };
      const at = model.callAt.get(line.callId);
      const turn = at === undefined ? undefined : items[at];
      if (turn?.kind === 'turn') {
        const calls = turn.calls.map((call) =>
          call.id === line.callId ? { ...call, result: answer } : call,
        );
        items[turn.key] = { ...turn, calls };
        return;
      }
      // A result whose call this page did not see: shown on its own.
      const call = { id: line.callId, name: line.name, arguments: '', result: answer };
      items.push({ kind: 'result', key, time: line.time, step: line.step, call });
      return;
    }
    case 'malformed':
      model.malformed += 1;
      model.steps = Math.max(model.steps, line.step);
      items.push({
        kind: 'malformed',
        key,
        time: line.time,
        step: line.step,
        message: line.message,
      });
      return;
    case 'command':
      items.push({
        kind: 'command',
        key,
        time: line.time,
        processId: line.processId,
        argv: line.argv,
      });
      return;
    case 'output':
    case 'output-gap':
      appendOutput(items, line);
      return;
    case 'end':
      model.ended = line;
      items.push({ kind: 'end', key, entry: line });
      return;
    case 'unreadable':
      items.push({ kind: 'unreadable', key, text: line.text });
      return;
    default:
      // An entry kind newer than this page: shown as the JSON it came as.
      items.push({ kind: 'unreadable', key, text: JSON.stringify(line) });
  }
}

/**
 * The transcript with `lines` added. Pure: the model given is not changed, and every item the
 * lines do not touch is the same object, so a memoized view of it does not render again.
 */
export function appendLines(model: TranscriptModel, lines: readonly ReadLine[]): TranscriptModel {
  if (lines.length === 0) return model;
  // One copy per batch, not per line: a long transcript arrives in batches of thousands.
  const next: Draft = { ...model, items: [...model.items], callAt: new Map(model.callAt) };
  for (const line of lines) appendLine(next, line);
  return next;
}
