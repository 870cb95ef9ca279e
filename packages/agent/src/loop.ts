import type { AgentLimits, AgentTool } from '@hangar/api';
import type { Message, ModelClient, ModelTurn, ToolCall } from './conversation.js';
import { emptyCounts, limitBeforeTurn, usageOrEstimate, type LoopCounts } from './limits.js';
import { ModelError } from './model-error.js';
import { checkCall, type Checked } from './call-check.js';
import { CallRepeats, refusedRepeatLimit } from './repeats.js';
import { toolSpecs, type CheckedCall } from './tools.js';

/** What a tool call came to; `commandMs` is the command's own run time, when one ran. */
export interface ToolOutcome {
  content: string;
  isError: boolean;
  commandMs?: number;
}

/** Runs tool calls for the loop. A rejection is told to the model as a tool error. */
export interface Toolbox {
  run(
    call: CheckedCall,
    context: { signal: AbortSignal; commandTimeoutS: number },
  ): Promise<ToolOutcome>;
}

export type LoopState = 'succeeded' | 'failed' | 'cancelled' | 'limit_reached';

export interface LoopResult extends LoopCounts {
  state: LoopState;
  /** failed: what went wrong; limit_reached: the limit's name; cancelled: `stopped`. */
  reason?: string;
  /**
   * failed: a stable code that names what went wrong without quoting anything (a model server's
   * error text can echo the conversation): `model_<code>[_<status>]`, `repeated_call` (the model
   * kept making a call it was told would not run again) or `internal`.
   */
  errorCode?: string;
  summary?: string;
}

/** What the transcript records, in order. */
export type LoopEvent =
  | {
      type: 'turn';
      step: number;
      text: string;
      toolCalls: ToolCall[];
      usage: { inputTokens: number; outputTokens: number };
      durationMs: number;
      counts: LoopCounts;
    }
  | {
      type: 'tool';
      step: number;
      callId: string;
      name: string;
      arguments: string;
      isError: boolean;
      content: string;
      elapsedMs: number;
      commandMs?: number;
    }
  | { type: 'malformed'; step: number; callId?: string; message: string }
  | { type: 'end'; result: LoopResult };

export interface LoopOptions {
  client: ModelClient;
  toolbox: Toolbox;
  /** The tools the task may use; `finish` is always offered. */
  tools: readonly AgentTool[];
  prompt: string;
  system: string;
  limits: AgentLimits;
  /** Stops the loop at once: the model request is aborted, the running tool call told. */
  signal?: AbortSignal;
  onEvent?: (event: LoopEvent) => void;
  /** How often the same call may fail before it is refused without running; 3 when absent. */
  repeatLimit?: number;
}

/** The most of a tool's answer the model is given; toolboxes cut their output well below. */
const maxResultChars = 128 * 1024;

/**
 * The most tool calls of one model reply that run; the others are answered with an error and
 * counted as malformed, so one reply cannot start thousands of commands.
 */
export const maxToolCallsPerTurn = 16;

/** Characters a token, for tool results not yet sent to the model (as in `usageOrEstimate`). */
const charsPerToken = 4;

export function defaultSystemPrompt(workspaceFolder: string): string {
  return (
    'You are a software engineer working in a development environment through tools. The ' +
    `repository is in ${workspaceFolder}; relative paths start there. Read before you edit, ` +
    'make small exact edits, run the tests to check your work, and call finish with a short ' +
    'summary when the task is done. Every reply must call at least one tool.'
  );
}

class Stopped extends Error {}

/** How a turn's calls ended the task, when they did. */
type TurnEnd =
  | { state: 'succeeded'; summary: string }
  | { state: 'limit_reached'; reason: 'maxTokens' }
  | { state: 'failed'; reason: string; errorCode: 'repeated_call' };

/**
 * One task's conversation: model turn, tool calls, their results, next turn..., until the model
 * calls `finish`, a limit is reached, the signal stops it, or the model server fails. Whatever
 * the model sends (bad JSON, unknown tools, huge arguments, text without a call, too many calls in
 * one reply, the same call again and again) is answered with an error and counted; `run` never
 * rejects. A model that keeps repeating a call after it was told ends the task (`repeated_call`).
 */
class LoopRun {
  private readonly abort = new AbortController();
  private why: 'cancelled' | 'maxWallTimeS' | undefined;
  private readonly messages: Message[];
  private readonly counts = emptyCounts();
  private readonly repeats: CallRepeats;
  private readonly specs;

  constructor(private readonly options: LoopOptions) {
    this.messages = [{ role: 'user', content: options.prompt }];
    this.repeats = new CallRepeats(options.repeatLimit);
    const offered = new Set<AgentTool>([...options.tools, 'finish']);
    this.specs = [...offered].map((name) => toolSpecs[name]);
  }

  async run(): Promise<LoopResult> {
    const { limits, signal } = this.options;
    const timer = setTimeout(() => this.stop('maxWallTimeS'), limits.maxWallTimeS * 1000);
    const onAbort = () => this.stop('cancelled');
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let result: LoopResult;
    try {
      result = await this.steps();
    } catch (error) {
      result = this.failed(error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    this.emit({ type: 'end', result });
    return result;
  }

  private stop(why: 'cancelled' | 'maxWallTimeS'): void {
    this.why ??= why;
    this.abort.abort(new Stopped(why));
  }

  private checkStopped(): void {
    if (this.why) throw new Stopped(this.why);
  }

  private emit(event: LoopEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A transcript writer that throws must not end the task; it reports its own failures.
    }
  }

  private end(
    state: LoopState,
    extra: { reason?: string; summary?: string; errorCode?: string } = {},
  ): LoopResult {
    return { state, ...extra, ...this.counts };
  }

  private failed(error: unknown): LoopResult {
    if (this.why === 'cancelled') return this.end('cancelled', { reason: 'stopped' });
    if (this.why === 'maxWallTimeS') return this.end('limit_reached', { reason: 'maxWallTimeS' });
    const message = error instanceof Error ? error.message : String(error);
    const errorCode =
      error instanceof ModelError
        ? `model_${error.code}${error.status !== undefined ? `_${error.status}` : ''}`
        : 'internal';
    return this.end('failed', { reason: message.slice(0, 500), errorCode });
  }

  private async steps(): Promise<LoopResult> {
    for (;;) {
      this.checkStopped();
      const limit = limitBeforeTurn(this.counts, this.options.limits);
      if (limit) return this.end('limit_reached', { reason: limit });
      const turn = await this.turn();
      this.checkStopped();
      if (!turn) continue;
      const finishes = turn.toolCalls.some((call) => call.name === 'finish');
      const overBudget = this.counts.inputTokens + this.counts.outputTokens;
      if (!finishes && overBudget >= this.options.limits.maxTokens) {
        return this.end('limit_reached', { reason: 'maxTokens' });
      }
      const ended = await this.answer(turn);
      if (ended) {
        const { state, ...extra } = ended;
        return this.end(state, extra);
      }
    }
  }

  /** One model turn; undefined when the reply was unusable and has been answered already. */
  private async turn(): Promise<ModelTurn | undefined> {
    this.counts.steps += 1;
    const started = performance.now();
    let turn: ModelTurn;
    try {
      turn = await this.options.client.complete({
        system: this.options.system,
        messages: this.messages,
        tools: this.specs,
        signal: this.abort.signal,
      });
    } catch (error) {
      this.checkStopped();
      if (!(error instanceof ModelError) || !error.answerable) throw error;
      this.addUsage(usageOrEstimate(undefined, this.messages, 0));
      this.malformed(
        `your last reply could not be used (${error.message}); reply again, ` +
          'shorter, with a tool call',
      );
      return undefined;
    }
    const usage = usageOrEstimate(turn, this.messages);
    this.addUsage(usage);
    this.emit({
      type: 'turn',
      step: this.counts.steps,
      text: turn.text,
      toolCalls: turn.toolCalls,
      usage,
      durationMs: performance.now() - started,
      counts: { ...this.counts },
    });
    return turn;
  }

  private addUsage(usage: { inputTokens: number; outputTokens: number }): void {
    this.counts.inputTokens += usage.inputTokens;
    this.counts.outputTokens += usage.outputTokens;
  }

  /** Tells the model what was wrong with a reply that had no usable call. */
  private malformed(message: string): void {
    this.counts.malformed += 1;
    this.messages.push({ role: 'user', content: `Error: ${message}` });
    this.emit({ type: 'malformed', step: this.counts.steps, message });
  }

  /** Answers one call with an error instead of running it, and counts it. */
  private refuse(call: ToolCall, message: string): void {
    this.counts.malformed += 1;
    this.emit({ type: 'malformed', step: this.counts.steps, callId: call.id, message });
    this.reply(call, { content: `Error: ${message}`, isError: true });
  }

  /**
   * Runs the turn's calls in order, at most {@link maxToolCallsPerTurn} of them; says how they
   * ended the task, if they did: `finish`, the token budget spent by their results (counted as
   * they come, so a turn stops running calls once it is spent), or a repetition that persists.
   */
  private async answer(turn: ModelTurn): Promise<TurnEnd | undefined> {
    const calls = uniqueIds(turn.toolCalls);
    const checked = calls.map((call, index) =>
      index < maxToolCallsPerTurn ? checkCall(call, this.specs) : overCap(calls.length),
    );
    this.messages.push({
      role: 'assistant',
      content: turn.text,
      // Refused arguments are not sent back: they may be huge or not JSON at all.
      toolCalls: calls.map((call, index) =>
        checked[index]?.ok ? call : { ...call, arguments: '{}' },
      ),
    });
    if (calls.length === 0) {
      this.malformed('reply with a tool call; call finish with a summary when the work is done');
      return undefined;
    }
    let resultChars = 0;
    for (const [index, call] of calls.entries()) {
      this.checkStopped();
      const check = checked[index] as Checked;
      if (!check.ok) {
        this.refuse(call, check.message);
        continue;
      }
      if (check.call.name === 'finish') {
        return { state: 'succeeded', summary: check.call.args.summary };
      }
      const pending = Math.ceil(resultChars / charsPerToken);
      if (
        this.counts.inputTokens + this.counts.outputTokens + pending >=
        this.options.limits.maxTokens
      ) {
        return { state: 'limit_reached', reason: 'maxTokens' };
      }
      const verdict = this.repeats.check(check.call);
      if (!verdict.run) {
        this.refuse(call, verdict.message);
        if (!verdict.end) continue;
        return {
          state: 'failed',
          reason:
            `the model made a call it had been told would not run again, ` +
            `${refusedRepeatLimit} times in a row`,
          errorCode: 'repeated_call',
        };
      }
      resultChars += await this.runCall(call, check.call);
    }
    return undefined;
  }

  /** Runs one call and answers it; resolves with the length of the answer. */
  private async runCall(call: ToolCall, checked: CheckedCall): Promise<number> {
    this.counts.toolCalls += 1;
    const started = performance.now();
    let outcome: ToolOutcome;
    try {
      outcome = await this.options.toolbox.run(checked, {
        signal: this.abort.signal,
        commandTimeoutS: this.options.limits.commandTimeoutS,
      });
    } catch (error) {
      this.checkStopped();
      outcome = { content: `Error: ${(error as Error).message ?? String(error)}`, isError: true };
    }
    this.checkStopped();
    this.repeats.ran(checked, outcome.isError);
    const content =
      outcome.content.length > maxResultChars
        ? `${outcome.content.slice(0, maxResultChars)}\n[cut off at ${maxResultChars} characters]`
        : outcome.content;
    this.reply(call, { content, isError: outcome.isError });
    this.emit({
      type: 'tool',
      step: this.counts.steps,
      callId: call.id,
      name: checked.name,
      arguments: call.arguments,
      isError: outcome.isError,
      content,
      elapsedMs: performance.now() - started,
      ...(outcome.commandMs !== undefined ? { commandMs: outcome.commandMs } : {}),
    });
    return content.length;
  }

  private reply(call: ToolCall, outcome: { content: string; isError: boolean }): void {
    this.messages.push({ role: 'tool', callId: call.id, name: call.name, ...outcome });
  }
}

/** The answer to a call past {@link maxToolCallsPerTurn}: not run. */
function overCap(made: number): Checked {
  return {
    ok: false,
    message:
      `not run: at most ${maxToolCallsPerTurn} tool calls of one reply are run and this reply ` +
      `made ${made}; make the others in your next reply`,
  };
}

/** Calls with the ids the model gave, made unique: both APIs pair each result with one call. */
function uniqueIds(calls: ToolCall[]): ToolCall[] {
  const seen = new Set<string>();
  return calls.map((call, index) => {
    const id = seen.has(call.id) || call.id === '' ? `${call.id || 'call'}_${index}` : call.id;
    seen.add(id);
    return id === call.id ? call : { ...call, id };
  });
}

export function runAgentLoop(options: LoopOptions): Promise<LoopResult> {
  return new LoopRun(options).run();
}
