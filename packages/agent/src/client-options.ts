/** What a model client needs; `baseUrl` always comes from the task or the organization. */
export interface ClientOptions {
  baseUrl: string;
  model: string;
  /** The API key; absent for a server that needs none. */
  key?: string;
  /** Streams the reply (server-sent events); true when absent. */
  stream?: boolean;
  /** Attempts after the first for an unreachable or overloaded server. */
  retries?: number;
  /** Anthropic `max_tokens`: the most one reply may have. */
  maxOutputTokens?: number;
}

/** `base` and `path` joined with one slash, whatever `base` ends with. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}
