import type { Masker } from './masker.js';

/** A copy of `value` with every string in it (keys too) masked; other values unchanged. */
export function maskDeep<T>(value: T, masker: Masker): T {
  if (masker.empty) return value;
  return walk(value, masker) as T;
}

function walk(value: unknown, masker: Masker): unknown {
  if (typeof value === 'string') return masker.maskText(value);
  if (Array.isArray(value)) return value.map((item) => walk(item, masker));
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[masker.maskText(key)] = walk(item, masker);
  return copy;
}
