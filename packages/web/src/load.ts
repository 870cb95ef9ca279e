import { useCallback, useEffect, useRef, useState } from 'react';
import type { Result } from './client.js';

/** What a page shows while it loads something: loading, the failure, or the data. */
export type LoadState<T> =
  { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; data: T };

/**
 * Loads with `load` when `key` changes, and again every `everyMs` if given (a page's live view).
 * A failed refresh after a success shows the error; the next success shows the data again.
 */
export function useLoad<T>(
  load: () => Promise<Result<T>>,
  key: string,
  everyMs?: number,
): { state: LoadState<T>; reload: () => Promise<void> } {
  const [state, setState] = useState<LoadState<T>>({ kind: 'loading' });
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    const result = await latest.current();
    setState(
      result.ok ? { kind: 'ready', data: result.data } : { kind: 'error', message: result.message },
    );
  }, []);
  useEffect(() => {
    setState({ kind: 'loading' });
    void reload();
    if (!everyMs) return undefined;
    const timer = setInterval(() => void reload(), everyMs);
    return () => clearInterval(timer);
  }, [key, everyMs, reload]);
  return { state, reload };
}
