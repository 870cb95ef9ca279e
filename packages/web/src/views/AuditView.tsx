import { useId } from 'react';
import type { AuditRecord } from '../audit/types.js';
import { AuditFilters, type AuditFiltersProps } from './AuditFilters.js';
import { AuditRecordDetail } from './AuditRecordDetail.js';
import { AuditRecords, type AuditRecordsProps } from './AuditRecords.js';
import { ChainStatus, type ChainStatusProps } from './ChainStatus.js';

export interface AuditViewProps {
  chain: ChainStatusProps;
  filters: AuditFiltersProps;
  records: Omit<AuditRecordsProps, 'problemSeq'>;
  /** The record whose detail is open, if it is on this page. */
  selected: AuditRecord | undefined;
  onCloseDetail: () => void;
}

/** The audit page: the chain's verification, then the filtered log and a record's detail. */
export function AuditView({ chain, filters, records, selected, onCloseDetail }: AuditViewProps) {
  const id = useId();
  const problem =
    chain.check.kind === 'ready' && !chain.check.data.ok ? chain.check.data.problem : undefined;
  return (
    <>
      <h1>Audit</h1>
      <ChainStatus {...chain} />
      <section aria-labelledby={`${id}-records`}>
        <h2 id={`${id}-records`}>Records</h2>
        <AuditFilters {...filters} />
        {selected ? (
          <AuditRecordDetail
            key={selected.seq}
            record={selected}
            problem={problem?.seq === selected.seq ? problem : undefined}
            onClose={onCloseDetail}
          />
        ) : null}
        <AuditRecords {...records} problemSeq={problem?.seq} />
      </section>
    </>
  );
}
