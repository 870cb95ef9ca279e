/**
 * The deterministic JSON encoding the control plane hashes and signs: object keys sorted by UTF-16
 * code unit, no whitespace, `undefined` members dropped (and `undefined` in arrays written as
 * null). The browser's verifier needs the very same bytes, so this is a copy of the rule in
 * packages/api/src/canonical-json.ts, which browser code may not import; a test checks that the
 * two agree.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalJson: numbers must be finite');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
