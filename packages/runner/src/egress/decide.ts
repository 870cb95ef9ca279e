import type { Actor } from '@hangar/api';
import { formatAddress } from './address.js';
import type { Target } from './request-target.js';
import { resolveHost, ResolveError, type LookupAll } from './resolve.js';
import { checkAddresses, checkDestination, compileRule, type CompiledRule } from './rules.js';

/** What applies when nothing was said: no egress at all. */
export const noEgress = compileRule({ mode: 'none' }, 'egress (none set)');

/**
 * What the proxy does with one request: connect to `address`, or answer `status` with `reason`.
 * `policy` names the rules that decided (each must allow), for the record and the denial header.
 */
export type Decision =
  | { allowed: true; actor: Actor; policy: string; mode: string; address: Uint8Array }
  | {
      allowed: false;
      actor: Actor;
      policy: string;
      mode: string;
      /** 403 a rule denied it, 407 unknown proxy credentials, 502 the name does not resolve. */
      status: 403 | 407 | 502;
      reason: string;
      address?: Uint8Array;
    };

/** The environment side of a decision: its rules now, and who a request acts for. */
export interface EgressContext {
  environmentId: string;
  /** Every rule that applies now (the class rule, or the rule of each running agent task). */
  rules(): CompiledRule[];
  /** The actor of a request with these proxy credentials (none: the owner); undefined: unknown. */
  actorFor(credential: string | undefined): Actor | undefined;
  /**
   * The agent tasks running in the environment now. A request without credentials while one
   * runs is recorded as the owner's, naming them: it may come from a command the agent started.
   */
  runningTasks?(): string[];
}

/** A denial by one rule, which the refusal names. */
function ruleDenial(actor: Actor, rule: CompiledRule, reason: string): Decision {
  return { allowed: false, actor, policy: rule.policy, mode: rule.mode, status: 403, reason };
}

function describeRules(rules: readonly CompiledRule[]) {
  return {
    policy: rules.map((rule) => rule.policy).join(', '),
    mode: [...new Set(rules.map((rule) => rule.mode))].join(', '),
  };
}

/**
 * Decides a request for `target`: the credentials, then every rule on the host and port (before
 * anything is resolved, so a denied name never reaches DNS), then every rule on every address the
 * name resolves to. An allowed decision carries the one checked address to connect to.
 */
export async function decide(options: {
  context: EgressContext;
  target: Target;
  credential: string | null | undefined;
  lookup: LookupAll;
  lookupTimeoutMs: number;
}): Promise<Decision> {
  const { context, target } = options;
  const given = context.rules();
  const rules = given.length > 0 ? given : [noEgress];
  const described = describeRules(rules);
  const owner = context.actorFor(undefined) ?? { kind: 'system', id: 'egress' };
  const actor = options.credential === null ? undefined : context.actorFor(options.credential);
  if (!actor) {
    return {
      allowed: false,
      actor: owner,
      ...described,
      status: 407,
      reason: 'the proxy credentials name no running agent task of this environment',
    };
  }
  for (const rule of rules) {
    const verdict = checkDestination(rule, target.host, target.port);
    if (!verdict.allowed) return ruleDenial(actor, rule, verdict.reason);
  }
  let addresses: Uint8Array[];
  try {
    addresses = await resolveHost(target.host, {
      lookup: options.lookup,
      timeoutMs: options.lookupTimeoutMs,
    });
  } catch (error: unknown) {
    const reason =
      error instanceof ResolveError ? error.message : `${target.host} does not resolve`;
    return { allowed: false, actor, ...described, status: 502, reason };
  }
  for (const rule of rules) {
    const verdict = checkAddresses(rule, target.host, target.port, addresses);
    if (!verdict.allowed) return ruleDenial(actor, rule, verdict.reason);
  }
  // Known gap: only the first checked address is dialled; a name whose first address refuses
  // connections fails even when another of its (equally checked) addresses would answer.
  const [address] = addresses;
  if (!address) {
    return {
      allowed: false,
      actor,
      ...described,
      status: 502,
      reason: `${target.host} has no address`,
    };
  }
  return { allowed: true, actor, ...described, address };
}

/** The address as the record and the connection use it. */
export function addressText(address: Uint8Array | undefined): string | undefined {
  return address ? formatAddress(address) : undefined;
}
