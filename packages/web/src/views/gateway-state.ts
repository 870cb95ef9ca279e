import type { LoadState } from '../load.js';

/** What a section served by the runner's gateway shows: its data, or why it is not asked. */
export type GatewayState<T> = LoadState<T> | { kind: 'unavailable'; reason: string };
