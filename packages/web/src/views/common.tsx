import type { ReactNode } from 'react';
import type { LoadState } from '../load.js';

/** Announced politely while something loads. */
export function Loading({ what }: { what: string }) {
  return <p role="status">Loading {what}…</p>;
}

/** Announced at once: what failed and why, in the API's own words. */
export function ErrorNote({ children }: { children: ReactNode }) {
  return (
    <p className="error" role="alert">
      {children}
    </p>
  );
}

/** Shows the loading and error states of `state`, or `ready` with its data. */
export function Loaded<T>({
  state,
  what,
  ready,
}: {
  state: LoadState<T>;
  what: string;
  ready: (data: T) => ReactNode;
}) {
  if (state.kind === 'loading') return <Loading what={what} />;
  if (state.kind === 'error') {
    return (
      <ErrorNote>
        Could not load {what}: {state.message}
      </ErrorNote>
    );
  }
  return <>{ready(state.data)}</>;
}

/** A time as the reader's locale writes it, with the exact UTC time on hover. */
export function Time({ at }: { at: string | undefined }) {
  if (!at) return <span>never</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {Number.isNaN(date.getTime()) ? at : date.toLocaleString()}
    </time>
  );
}
