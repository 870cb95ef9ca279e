/**
 * The deterministic JSON the control plane hashes audit records with, and sealed secrets are
 * bound with: object keys sorted by code unit, no whitespace, `undefined` members dropped (`null`
 * in arrays). The browser must write exactly the bytes packages/api's canonicalJson writes (which
 * browser code may not import), or no chain verifies and nothing it seals opens; the audit and
 * seal tests compare the two.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalJson: numbers must be finite');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    return `[${items.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  }
  const members = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
  return `{${members.join(',')}}`;
}
