import type { CheckedCall } from './tools.js';

/** How often the same call may fail before it is refused without running, by default. */
export const defaultFailedCallLimit = 3;

/**
 * How often the same call (tool and arguments) may run in a row, whatever it returned; the next
 * identical call is refused: its answer would not change, and a model that keeps asking is stuck.
 */
export const sameCallRunLimit = 5;

/**
 * Calls refused for repetition (either rule) in a row after which the task ends `failed` with
 * `repeated_call`: the model was told and asked again anyway. A call that runs resets it.
 */
export const refusedRepeatLimit = 3;

export type RepeatVerdict = { run: true } | { run: false; message: string; end: boolean };

const keyOf = (call: CheckedCall) => `${call.name}\0${JSON.stringify(call.args)}`;

/**
 * Watches a task's calls for loops: the same call failing again and again, and the same call
 * made again and again in a row. Asked before each call may run; told each outcome after.
 */
export class CallRepeats {
  private readonly failures = new Map<string, number>();
  private lastKey: string | undefined;
  /** How often `lastKey` ran in a row. */
  private streak = 0;
  private refusedInRow = 0;

  constructor(private readonly failedLimit = defaultFailedCallLimit) {}

  check(call: CheckedCall): RepeatVerdict {
    const key = keyOf(call);
    const failed = this.failures.get(key) ?? 0;
    let message: string | undefined;
    if (failed >= this.failedLimit) {
      message =
        `this exact ${call.name} call failed ${failed} times in a row and was not run ` +
        'again; change the call or try another way';
    } else if (key === this.lastKey && this.streak >= sameCallRunLimit) {
      message =
        `this exact ${call.name} call was made ${this.streak} times in a row and was not run ` +
        'again: its answer will not change. Use the answer you have, do something else, or ' +
        'call finish';
    }
    if (message === undefined) return { run: true };
    this.refusedInRow += 1;
    return { run: false, message, end: this.refusedInRow >= refusedRepeatLimit };
  }

  ran(call: CheckedCall, isError: boolean): void {
    const key = keyOf(call);
    this.refusedInRow = 0;
    if (key === this.lastKey) this.streak += 1;
    else {
      this.lastKey = key;
      this.streak = 1;
    }
    if (isError) this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    else if (call.name === 'write_file' || call.name === 'replace_in_file') {
      // A file changed: a call that failed before may well succeed now.
      this.failures.clear();
    } else this.failures.delete(key);
  }
}
