import type { OrgPolicy } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export function describePolicy(policy: OrgPolicy): string[] {
  const lines = [`max port share level: ${policy.maxPortShareLevel}`];
  if (policy.updatedBy)
    lines.push(`updated:              ${policy.updatedAt ?? '-'} by ${policy.updatedBy}`);
  else lines.push('updated:              never (the default)');
  return lines;
}

export const command = defineCommand({
  synopsis: '',
  description: 'Shows the organization policy: the widest level a port may be shared at.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const policy = await api.get<OrgPolicy>('/v1/org/policy');
    out.result(policy, () => describePolicy(policy));
    return 0;
  },
});
