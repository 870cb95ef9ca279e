import type { AuditRecord } from '@hangar/api';
import { defineCommand } from '../command.js';
import { parseTimeBound } from '../durations.js';
import { UsageError } from '../errors.js';
import type { QueryValue } from '../http-client.js';
import { table } from '../output.js';
import { apiFlags, openSession } from '../session.js';

interface AuditPage {
  records: AuditRecord[];
  nextCursor?: string;
}

function timeFlag(name: string, value: string | undefined, nowMs: number): string | undefined {
  if (value === undefined) return undefined;
  const time = parseTimeBound(value, nowMs);
  if (!time) {
    throw new UsageError(
      `--${name} must be a time such as 2024-05-01T12:00:00Z or 2024-05-01, or an age such as ` +
        `2h or 7d, got "${value}"`,
      { commandPath: 'audit list', fields: [{ field: name, message: 'must be a time or an age' }] },
    );
  }
  return time;
}

function recordRow(record: AuditRecord): string[] {
  const actor = `${record.actor.kind}:${record.actor.id}`;
  const onBehalf = record.actor.onBehalfOf ? ` for ${record.actor.onBehalfOf}` : '';
  const target = record.target ? `${record.target.kind}:${record.target.id}` : '-';
  return [
    String(record.seq),
    record.time,
    `${actor}${onBehalf}`,
    record.action,
    target,
    record.outcome,
  ];
}

export const command = defineCommand({
  synopsis:
    '[--actor ID] [--action A] [--target ID] [--since T] [--until T] [--limit N] ' +
    '[--cursor C] [--all]',
  description:
    'Lists audit records of your organization, oldest first. --action takes a name or a ' +
    'prefix such as environment.*; --since and --until take RFC 3339 times or ages (2h, 7d). ' +
    'One page at a time unless --all, which follows the cursors to the end.',
  spec: {
    flags: {
      ...apiFlags,
      actor: { type: 'string', valueName: 'ID', describe: 'only records by this actor id' },
      action: { type: 'string', valueName: 'A', describe: 'only this action, or prefix.*' },
      target: { type: 'string', valueName: 'ID', describe: 'only records about this target id' },
      since: { type: 'string', valueName: 'T', describe: 'from this time (inclusive)' },
      until: { type: 'string', valueName: 'T', describe: 'before this time (exclusive)' },
      limit: { type: 'integer', valueName: 'N', min: 1, max: 1000, describe: 'records per page' },
      cursor: { type: 'string', valueName: 'C', describe: 'continue after a previous page' },
      all: { type: 'boolean', describe: 'fetch every page' },
    },
  },
  async run({ io, out }, { flags }) {
    const now = Date.now();
    const query: Record<string, QueryValue> = {
      actor: flags.actor,
      action: flags.action,
      target: flags.target,
      since: timeFlag('since', flags.since, now),
      until: timeFlag('until', flags.until, now),
      limit: flags.limit ?? (flags.all ? 1000 : undefined),
      cursor: flags.cursor,
    };
    const { api } = await openSession(io, flags);
    const records: AuditRecord[] = [];
    let nextCursor: string | undefined;
    for (;;) {
      const page = await api.get<AuditPage>('/v1/audit', query);
      records.push(...page.records);
      nextCursor = page.nextCursor;
      if (!flags.all || !nextCursor) break;
      query.cursor = nextCursor;
    }
    const value = nextCursor ? { records, nextCursor } : { records };
    out.result(value, () =>
      records.length === 0
        ? ['no audit records match']
        : table(['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME'], records.map(recordRow)),
    );
    if (nextCursor && !out.json) {
      out.info(`more records: pass --all for every page, or --cursor ${nextCursor} for the next`);
    }
    return 0;
  },
});
