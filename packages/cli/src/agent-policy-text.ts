import type { AgentPolicy } from '@hangar/api';

function listOr(items: readonly string[] | undefined, none: string): string {
  return items && items.length > 0 ? items.join(', ') : none;
}

/** The organization's agent policy, one rule per line, with what an absent rule means. */
export function describeAgentPolicy(agents: AgentPolicy | undefined, width: number): string[] {
  const limit = (value: number | undefined) => (value === undefined ? 'no limit' : String(value));
  const model = agents?.model;
  const key = model?.keySecret ? ` (key from secret ${model.keySecret})` : '';
  const rows: [string, string][] = [
    ['agent tools', listOr(agents?.allowedTools, 'all')],
    ['agent denied', listOr(agents?.deniedCommandPatterns, 'none')],
    ['agent writable', listOr(agents?.writablePaths, 'the whole workspace')],
    ['agents per user', limit(agents?.maxRunningPerUser)],
    ['agents per org', limit(agents?.maxRunningPerOrg)],
    [
      'agent model',
      model
        ? `${model.model} (${model.api}) at ${model.baseUrl}${key}`
        : 'none: each task names one',
    ],
  ];
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
}
