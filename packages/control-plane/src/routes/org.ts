import { OrgPolicySchema, UpdateOrgPolicyBody } from '@hangar/api';
import type { Context } from '../context.js';
import { admins, allRoles, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { updatePolicy } from '../services/org-policy.js';
import { policyOf } from '../services/policy-store.js';
import { metaOf, routes } from './plugin.js';

export function orgRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/org/policy',
      {
        config: { access: userRule('environments:read', allRoles) },
        schema: {
          summary: 'The organization policy: the widest level a port may be shared at',
          response: { 200: OrgPolicySchema },
        },
      },
      async (request) => policyOf(context.db, principalOf(request).orgId),
    );

    app.patch(
      '/v1/org/policy',
      {
        config: { access: userRule('environments:write', admins) },
        schema: {
          summary: 'Change the organization policy (owners and admins)',
          description:
            'Lowering maxPortShareLevel lowers every share above it, and their runners apply ' +
            'it at once.',
          body: UpdateOrgPolicyBody,
          response: { 200: OrgPolicySchema },
        },
      },
      async (request) => updatePolicy(context, principalOf(request), request.body, metaOf(request)),
    );
  });
}
