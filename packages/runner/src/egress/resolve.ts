import { lookup as dnsLookup } from 'node:dns/promises';
import { parseAddress } from './address.js';

/** Every address of a name, as `dns.promises.lookup(name, { all: true })` answers. */
export type LookupAll = (host: string) => Promise<Array<{ address: string }>>;

export const systemLookup: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

export class ResolveError extends Error {}

/**
 * The addresses to judge and connect to: an IP literal is itself; a name is resolved once, here,
 * and the proxy connects to an address of this answer (never resolving again), so a name that
 * changes its answer between check and use cannot lead anywhere unchecked.
 */
export async function resolveHost(
  host: string,
  options: { lookup: LookupAll; timeoutMs: number },
): Promise<Uint8Array[]> {
  const literal = parseAddress(host);
  if (literal) return [literal];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ResolveError(`resolving ${host} took longer than ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  try {
    const answers = await Promise.race([options.lookup(host), timeout]);
    const addresses = answers.flatMap((answer) => {
      const bytes = parseAddress(answer.address);
      return bytes ? [bytes] : [];
    });
    if (addresses.length === 0) throw new ResolveError(`${host} has no address`);
    return addresses;
  } catch (error: unknown) {
    if (error instanceof ResolveError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    throw new ResolveError(`${host} does not resolve (${code})`);
  } finally {
    clearTimeout(timer);
  }
}
