const secondsPerUnit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Reads `90`, `90s`, `15m`, `12h`, `30d` or `2w` as seconds; a bare number is seconds.
 * Returns undefined for anything else, so the caller can say which flag was wrong.
 */
export function parseDurationS(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([smhdw]?)$/.exec(text.trim());
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const seconds = Number(amount) * (secondsPerUnit[unit || 's'] ?? 1);
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** A short human duration: `850 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
}

/**
 * An RFC 3339 time from `2024-05-01T12:00:00Z`, `2024-05-01`, or an age such as `2h` (that long
 * ago, measured from `nowMs`). Returns undefined when the text is neither.
 */
export function parseTimeBound(text: string, nowMs: number): string | undefined {
  const ageS = parseDurationS(text);
  if (ageS !== undefined && /[smhdw]$/.test(text.trim())) {
    return new Date(nowMs - ageS * 1000).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text.trim()))
    return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
