import { AuditExport, AuditPage, AuditQuery } from '@hangar/api';
import type { Context } from '../context.js';
import { auditReaders, userRule } from '../http/access-rules.js';
import { principalOf } from '../http/authenticate.js';
import { routes } from './plugin.js';

export function auditRoutes(context: Context) {
  return routes((app) => {
    app.get(
      '/v1/audit',
      {
        config: { access: userRule('audit:read', auditReaders) },
        schema: {
          summary: 'Audit records of your organization, oldest first, with filters and paging',
          querystring: AuditQuery,
          response: { 200: AuditPage },
        },
      },
      async (request) => context.audit.query(principalOf(request).orgId, request.query),
    );

    app.get(
      '/v1/audit/export',
      {
        config: { access: userRule('audit:read', auditReaders) },
        schema: {
          summary: 'The whole chain with signed checkpoints, for offline verification',
          description: 'Signs a checkpoint of the current head first, so every record is covered.',
          response: { 200: AuditExport },
        },
      },
      async (request) => {
        const orgId = principalOf(request).orgId;
        await context.audit.checkpoint(orgId);
        return context.audit.export(orgId);
      },
    );
  });
}
