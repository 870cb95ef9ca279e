import type { OrgPolicy } from '@hangar/api';
import { defineCommand } from '../command.js';
import { parseLevel, shareLevels } from '../port-shares.js';
import { apiFlags, openSession } from '../session.js';
import { describePolicy } from './org-policy-get.js';

export const command = defineCommand({
  synopsis: '--max-port-share-level private|org|public',
  description:
    'Changes the organization policy (owners and admins). Lowering the port share level also ' +
    'lowers every share above it, at once.',
  spec: {
    flags: {
      ...apiFlags,
      'max-port-share-level': {
        type: 'string',
        valueName: 'LEVEL',
        required: true,
        describe: `the widest share level allowed: ${shareLevels.join(', ')}`,
      },
    },
  },
  async run({ io, out }, { flags }) {
    const level = parseLevel(
      flags['max-port-share-level'],
      'org policy set',
      'max-port-share-level',
    );
    const { api } = await openSession(io, flags);
    const policy = await api.json<OrgPolicy>('PATCH', '/v1/org/policy', {
      body: { maxPortShareLevel: level },
    });
    out.result(policy, () => describePolicy(policy));
    return 0;
  },
});
