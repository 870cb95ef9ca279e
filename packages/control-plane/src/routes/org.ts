import { OrgPolicySchema, UpdateOrgPolicyBody } from '@hangar/api';
import type { Context } from '../context.js';
import { admins, orgReaders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { updatePolicy } from '../services/org-policy.js';
import { policyOf } from '../services/policy-store.js';
import { metaOf, routes } from './plugin.js';

export function orgRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/org/policy',
      {
        config: { access: userRule('environments:read', orgReaders) },
        schema: {
          summary: 'The organization policy: every rule, each absent when it restricts nothing',
          response: { 200: OrgPolicySchema },
        },
      },
      async (request) => policyOf(context.db, principalOf(request).orgId),
    );

    app.patch(
      '/v1/org/policy',
      {
        config: { access: userRule('org:admin', admins) },
        schema: {
          summary: 'Change the organization policy (owners and admins)',
          description:
            'Each member sets one rule; null clears it (no restriction; breakGlass off; ' +
            'maxPortShareLevel back to org). Lowering maxPortShareLevel lowers every share ' +
            'above it, and their runners apply it at once. Repository patterns: * matches any ' +
            'run without /, ** any run, anchored on the whole URL; environments without a ' +
            'repository are not restricted by them. Project runners must name runners of the ' +
            'organization. The change is audited with the old and new value of every rule.',
          body: UpdateOrgPolicyBody,
          response: { 200: OrgPolicySchema },
        },
      },
      async (request) => updatePolicy(context, principalOf(request), request.body, metaOf(request)),
    );
  });
}
