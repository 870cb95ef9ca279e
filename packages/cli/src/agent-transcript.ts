/**
 * A transcript event as lines for a person: what the model said, each tool call with a short
 * result, and how the task ended. Unknown events are shown as their JSON, so nothing the runner
 * records is hidden by an older CLI.
 */

const maxResultLines = 4;
const maxLineChars = 200;

type Event = Record<string, unknown>;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function cut(line: string, max = maxLineChars): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The first lines of `body`, each cut, with a note of how many more there were. */
function shortened(body: string, indent: string): string[] {
  const lines = body.replace(/\s+$/, '').split('\n');
  const shown = lines.slice(0, maxResultLines).map((line) => `${indent}${cut(line)}`);
  const more = lines.length - maxResultLines;
  if (more > 0) shown.push(`${indent}… ${more} more line${more === 1 ? '' : 's'}`);
  return shown;
}

/** A tool call's arguments in one short line: the JSON object, compacted. */
function argumentsLine(raw: unknown): string {
  const source = text(raw);
  try {
    return cut(JSON.stringify(JSON.parse(source)), 160);
  } catch {
    return cut(source, 160);
  }
}

function callLine(name: unknown, args: unknown): string {
  return `> ${text(name) || 'tool'} ${argumentsLine(args)}`.trimEnd();
}

/** What the model said, and each tool call it made (their results follow as `tool` events). */
function turnLines(event: Event): string[] {
  const step = number(event.step);
  const said = text(event.text).trim();
  const lines: string[] = [];
  if (said !== '') {
    const label = step === undefined ? 'model' : `[${step}] model`;
    const [first = '', ...others] = said.split('\n');
    lines.push(`${label}: ${cut(first)}`, ...others.map((line) => `  ${cut(line)}`));
  }
  const calls = Array.isArray(event.toolCalls) ? (event.toolCalls as Event[]) : [];
  for (const call of calls) lines.push(callLine(call.name, call.arguments));
  return lines;
}

function toolLines(event: Event): string[] {
  const lines = event.arguments === undefined ? [] : [callLine(event.name, event.arguments)];
  const mark = event.isError === true ? 'error' : 'ok';
  const elapsed = number(event.elapsedMs);
  const timing = elapsed === undefined ? '' : ` (${Math.round(elapsed)} ms)`;
  lines.push(`  < ${text(event.name) || 'tool'} ${mark}${timing}`);
  const content = text(event.result ?? event.content);
  if (content !== '') lines.push(...shortened(content, '    '));
  return lines;
}

function endLines(event: Event): string[] {
  const result =
    typeof event.result === 'object' && event.result !== null ? (event.result as Event) : event;
  const state = text(result.state) || 'ended';
  const reason = text(result.reason);
  const steps = number(result.steps);
  const input = number(result.inputTokens);
  const counts = [
    steps === undefined ? undefined : `${steps} steps`,
    input === undefined ? undefined : `${input} tokens in, ${number(result.outputTokens) ?? 0} out`,
  ].filter((item): item is string => item !== undefined);
  const lines = [
    `= ${state}${reason ? `: ${reason}` : ''}${counts.length ? ` (${counts.join(', ')})` : ''}`,
  ];
  const summary = text(result.summary).trim();
  if (summary !== '') lines.push(...summary.split('\n').map((line) => `  ${line}`));
  return lines;
}

function eventLines(event: Event): string[] | undefined {
  const type = text(event.type);
  if (type === 'prompt') return [`prompt: ${cut(text(event.text).split('\n')[0] ?? '')}`];
  if (type === 'turn' || type === 'model') return turnLines(event);
  if (type === 'tool') return toolLines(event);
  if (type === 'malformed')
    return [`! the model's reply was unusable: ${cut(text(event.message))}`];
  if (type === 'error') return [`! ${cut(text(event.message))}`];
  if (type === 'end') return endLines(event);
  if (type === 'text') return [text(event.text)];
  if (type === 'command') {
    const argv = Array.isArray(event.argv) ? event.argv.map(String) : [];
    return [`$ ${argv.join(' ')}`];
  }
  if (type === 'output-gap') return [`… ${number(event.bytes) ?? 0} bytes of output not kept`];
  return undefined;
}

/**
 * What to print for one event: whole lines ending in a newline, or for a command agent's
 * `output` its text as it came (a chunk may end mid-line), or '' for nothing.
 */
export function transcriptText(event: Event): string {
  if (event.type === 'output') return text(event.text);
  const lines = eventLines(event) ?? [cut(JSON.stringify(event), 1000)];
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The state the transcript's `end` event names, if it is one. */
export function endState(event: Event): string | undefined {
  if (event.type !== 'end') return undefined;
  const result = event.result as Event | undefined;
  return text(result?.state ?? event.state) || undefined;
}
