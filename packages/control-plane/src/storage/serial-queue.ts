import { HangarError } from '@hangar/api';

/**
 * Runs tasks one at a time, in the order they were queued, each to completion (awaited) before
 * the next starts. A failing task does not stop the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** Marks one open transaction; its handle refuses statements once `open` is false. */
export interface TransactionScope {
  open: boolean;
}

export function assertOpen(scope: TransactionScope): void {
  if (scope.open) return;
  throw new HangarError(
    'internal',
    'a statement ran on a transaction handle after its transaction ended; ' +
      'run it inside the transaction callback, or on the database itself',
  );
}

export function closedDatabaseError(kind: string): HangarError {
  return new HangarError(
    'internal',
    `the ${kind} database was already closed; open it again before running statements`,
  );
}
