import type { EgressRule } from '@hangar/api';
import { addressAllowed, classifyAddress, formatAddress, parseCidr, type Cidr } from './address.js';
import { hostMatches } from './host-pattern.js';

/** Ports an allow-list entry opens when it names none. */
export const defaultAllowPorts = [443, 80] as const;

/**
 * A rule ready to decide with, and the policy it comes from in the words a denial uses:
 * `egress.agents`, `egress for class small`.
 */
export interface CompiledRule {
  policy: string;
  mode: EgressRule['mode'];
  allow: Array<{ host: string; ports: ReadonlySet<number> }>;
  allowPrivate: Cidr[];
}

/**
 * Compiles a rule. The control plane validated it; a CIDR block that still does not parse is
 * left out, which can only allow less.
 */
export function compileRule(rule: EgressRule, policy: string): CompiledRule {
  const allowPrivate = (rule.allowPrivate ?? []).flatMap((text) => {
    const cidr = parseCidr(text);
    return typeof cidr === 'string' ? [] : [cidr];
  });
  return {
    policy,
    mode: rule.mode,
    allow: (rule.allow ?? []).map((entry) => ({
      host: entry.host,
      ports: new Set(entry.ports ?? defaultAllowPorts),
    })),
    allowPrivate,
  };
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

function denial(rule: CompiledRule, host: string, port: number, why?: string): Verdict {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const base = `egress policy ${rule.policy} (mode ${rule.mode}) does not allow ${target}`;
  return { allowed: false, reason: why ? `${base}: ${why}` : base };
}

/** The rule's answer for a host and port, before any name is resolved. */
export function checkDestination(rule: CompiledRule, host: string, port: number): Verdict {
  if (rule.mode === 'none') return denial(rule, host, port);
  if (rule.mode === 'open') return { allowed: true };
  const entries = rule.allow.filter((entry) => hostMatches(entry.host, host));
  if (entries.length === 0) return denial(rule, host, port);
  if (!entries.some((entry) => entry.ports.has(port))) {
    const ports = [...new Set(entries.flatMap((entry) => [...entry.ports]))].sort((a, b) => a - b);
    return denial(rule, host, port, `only port ${ports.join(', ')} of that host`);
  }
  return { allowed: true };
}

/**
 * The rule's answer for the addresses the host resolved to: every one must be public or covered
 * by `allowPrivate`, so a name that also resolves to an inner address is refused outright.
 */
export function checkAddresses(
  rule: CompiledRule,
  host: string,
  port: number,
  addresses: readonly Uint8Array[],
): Verdict {
  for (const address of addresses) {
    if (addressAllowed(address, rule.allowPrivate)) continue;
    const { kind, range } = classifyAddress(address);
    const text = formatAddress(address);
    const resolved = text === host ? 'it is' : `it resolves to ${text},`;
    return denial(
      rule,
      host,
      port,
      `${resolved} a ${kind} address (${range ?? 'reserved'}) that allowPrivate does not cover`,
    );
  }
  return { allowed: true };
}
