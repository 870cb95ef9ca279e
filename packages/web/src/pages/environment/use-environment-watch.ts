import { useCallback, useEffect, useState } from 'react';
import { resultOf, type Client, type Environment } from '../../client.js';
import type { LoadState } from '../../load.js';
import { noteSeen, type SeenPhase } from '../../views/EnvironmentTimeline.js';

/** How long one request waits for the status to change; the API allows up to 60 s. */
export const watchWaitMs = 25_000;
/** The pause after a failed request before the next. */
export const watchRetryMs = 3_000;

export interface EnvironmentWatch {
  state: LoadState<Environment>;
  /** Every phase the page has seen the environment in, oldest first. */
  seen: readonly SeenPhase[];
  /** Why live updates are failing after the first load, if they are. */
  problem: string | null;
  /** Shows an environment an action returned, before its status changes. */
  accept: (environment: Environment) => void;
}

/**
 * Keeps one environment current without reloading: the first request reads it, and each next
 * one asks the control plane to answer when its status passes the version already shown.
 */
export function useEnvironmentWatch(client: Client, id: string): EnvironmentWatch {
  const [state, setState] = useState<LoadState<Environment>>({ kind: 'loading' });
  const [seen, setSeen] = useState<readonly SeenPhase[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const accept = useCallback((environment: Environment) => {
    setState({ kind: 'ready', data: environment });
    setSeen((list) => noteSeen(list, environment));
    setProblem(null);
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    setState({ kind: 'loading' });
    setSeen([]);
    setProblem(null);
    void watch(client, id, abort.signal, {
      onEnvironment: accept,
      onFirstFailure: (message) => setState({ kind: 'error', message }),
      onProblem: setProblem,
    });
    return () => abort.abort();
  }, [client, id, accept]);

  return { state, seen, problem, accept };
}

async function watch(
  client: Client,
  id: string,
  signal: AbortSignal,
  on: {
    onEnvironment: (environment: Environment) => void;
    onFirstFailure: (message: string) => void;
    onProblem: (message: string) => void;
  },
): Promise<void> {
  let version: number | undefined;
  while (!signal.aborted) {
    const query = version === undefined ? {} : { afterVersion: version, waitMs: watchWaitMs };
    const result = await resultOf(
      client.GET('/v1/environments/{id}', { params: { path: { id }, query }, signal }),
    );
    if (signal.aborted) return;
    if (result.ok) {
      on.onEnvironment(result.data);
      version = result.data.statusVersion;
      continue;
    }
    // Gone or not yours: asking again will not change the answer.
    const refused = result.status >= 400 && result.status < 500;
    if (version === undefined) on.onFirstFailure(result.message);
    else if (refused) on.onProblem(`Live updates stopped: ${result.message}.`);
    else on.onProblem(`Live updates are failing (${result.message}); trying again.`);
    if (refused) return;
    await pause(watchRetryMs, signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
