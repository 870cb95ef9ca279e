import { formatAddress, parseAddress } from '@hangar/api';

export { normalizeHost } from '@hangar/api';

/**
 * Whether a normalized host matches an allow-list pattern (see `EgressHostPattern`): an exact
 * name, `*.domain` for any name below `domain` (not `domain` itself), or an IP address, which
 * matches that address however it is written.
 */
export function hostMatches(pattern: string, host: string): boolean {
  const patternAddress = parseAddress(pattern);
  if (patternAddress) {
    const hostAddress = parseAddress(host);
    return (
      hostAddress !== undefined && formatAddress(hostAddress) === formatAddress(patternAddress)
    );
  }
  const wanted = pattern.toLowerCase().replace(/\.$/, '');
  if (parseAddress(host)) return false;
  if (wanted.startsWith('*.')) {
    const suffix = wanted.slice(1);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return host === wanted;
}
