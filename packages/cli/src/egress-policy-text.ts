import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EgressPolicy, EgressRule } from '@hangar/api';

/** One rule in a line: `allowlist registry.example.test:443,80; private 10.0.0.0/8`. */
export function describeEgressRule(rule: EgressRule): string {
  const parts: string[] = [rule.mode];
  if (rule.mode === 'allowlist') {
    const hosts = (rule.allow ?? []).map(
      (entry) => `${entry.host}:${(entry.ports ?? [443, 80]).join(',')}`,
    );
    parts[0] = `allowlist ${hosts.length > 0 ? hosts.join(' ') : '(empty: nothing)'}`;
  }
  if (rule.allowPrivate?.length) parts.push(`private ${rule.allowPrivate.join(' ')}`);
  return parts.join('; ');
}

/** The egress policy, a rule a line; an absent policy means no egress anywhere. */
export function describeEgressPolicy(policy: EgressPolicy | undefined, width: number): string[] {
  const row = (label: string, value: string) => `${`${label}:`.padEnd(width)}${value}`;
  const rows = [
    row('egress default', policy?.default ? describeEgressRule(policy.default) : 'none'),
  ];
  for (const [name, rule] of Object.entries(policy?.classes ?? {})) {
    rows.push(row(`egress class ${name}`, describeEgressRule(rule)));
  }
  rows.push(
    row(
      'egress agents',
      policy?.agents ? describeEgressRule(policy.agents) : "none set: the environment's rule",
    ),
  );
  return rows;
}

/**
 * The JSON egress policy in FILE, an object (the control plane checks each member); a string
 * saying what is wrong otherwise.
 */
export async function readEgressFile(path: string, cwd: string): Promise<object | string> {
  const shape =
    'a JSON object such as {"default": {"mode": "allowlist", "allow": [{"host": ' +
    '"registry.example.com"}]}, "classes": {...}, "agents": {...}}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(resolve(cwd, path), 'utf8')) as unknown;
  } catch (error: unknown) {
    const reason = error instanceof SyntaxError ? 'is not JSON' : 'cannot be read';
    return `${reason}: it must hold ${shape}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return `must hold ${shape}`;
  }
  return parsed;
}
