import type { AuditExport } from '@hangar/api';
import { defineCommand } from '../command.js';
import { apiFlags, openSession } from '../session.js';

export const command = defineCommand({
  synopsis: '> export.json',
  description:
    'Prints the whole audit chain of your organization with its signed checkpoints, as JSON; ' +
    'the control plane signs a checkpoint of the current head first. Check a saved export ' +
    'later with `hangar audit verify --file export.json`.',
  spec: { flags: { ...apiFlags } },
  async run({ io, out }, { flags }) {
    const { api } = await openSession(io, flags);
    const exported = await api.get<AuditExport>('/v1/audit/export');
    out.raw(`${JSON.stringify(exported, null, 2)}\n`);
    out.info(
      `exported ${exported.records.length} records and ${exported.checkpoints.length} ` +
        'checkpoints',
    );
    return 0;
  },
});
