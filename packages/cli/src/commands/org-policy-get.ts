import type { OrgPolicy, ProjectRule } from '@hangar/api';
import { describeAgentPolicy } from '../agent-policy-text.js';
import { defineCommand } from '../command.js';
import { describeEgressPolicy } from '../egress-policy-text.js';
import { apiFlags, openSession } from '../session.js';

/** Minutes as the duration flags take them: `45m`, `8h`, `2d`. */
export function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

function listOr(items: readonly string[] | undefined, none: string): string {
  return items && items.length > 0 ? items.join(', ') : none;
}

function projectLine(project: ProjectRule): string {
  const repositories = project.repositoryPatterns.join(', ');
  const runners = listOr(project.runners, 'any');
  return `  ${project.name}: repositories ${repositories}; runners ${runners}`;
}

/** Every rule of the policy, one per line, with what an absent rule means. */
export function describePolicy(policy: OrgPolicy): string[] {
  const limit = (value: number | undefined) => (value === undefined ? 'no limit' : String(value));
  const minutes = (value: number | undefined, none: string) =>
    value === undefined ? none : formatMinutes(value);
  const rows: [string, string][] = [
    ['max port share level', policy.maxPortShareLevel],
    ['allowed repositories', listOr(policy.allowedRepositoryPatterns, 'any')],
    ['allowed classes', listOr(policy.allowedClasses, 'any')],
    ['max running per user', limit(policy.maxRunningPerUser)],
    ['max running per org', limit(policy.maxRunningPerOrg)],
    ['idle stop after', minutes(policy.idleStopAfterMin, 'never')],
    ['max lifetime', minutes(policy.maxLifetimeMin, 'no limit')],
    ['break-glass', policy.breakGlass ? 'on' : 'off'],
    ['projects', policy.projects?.length ? String(policy.projects.length) : 'none'],
  ];
  const lines = rows.map(([label, value]) => `${`${label}:`.padEnd(22)}${value}`);
  lines.push(...(policy.projects ?? []).map(projectLine));
  lines.push(...describeAgentPolicy(policy.agents, 22));
  lines.push(...describeEgressPolicy(policy.egress, 22));
  if (policy.updatedBy) {
    lines.push(`${'updated:'.padEnd(22)}${policy.updatedAt ?? '-'} by ${policy.updatedBy}`);
  } else {
    lines.push(`${'updated:'.padEnd(22)}never (the default)`);
  }
  return lines;
}

export const command = defineCommand({
  synopsis: '',
  description:
    'Shows every rule of the organization policy: port sharing, repositories, classes, ' +
    'running limits, idle stop, lifetime, break-glass, projects, agents and egress.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const policy = await api.get<OrgPolicy>('/v1/org/policy');
    out.result(policy, () => describePolicy(policy));
    return 0;
  },
});
