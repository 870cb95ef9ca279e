import type { AuditPage, AuditRecord } from '../audit/types.js';
import type { LoadState } from '../load.js';
import { actorText, targetText } from './audit-text.js';
import { Loaded, Time } from './common.js';

export interface AuditRecordsProps {
  records: LoadState<AuditPage>;
  /** 1 for the first page. */
  page: number;
  filtered: boolean;
  /** The record the chain check found the first problem at, marked in the table. */
  problemSeq: number | undefined;
  selectedSeq: number | null;
  onSelect: (seq: number) => void;
  onPrevious: () => void;
  onNext: () => void;
}

/** One page of the log, oldest first, with a button to each record's detail and the paging. */
export function AuditRecords(props: AuditRecordsProps) {
  return (
    <Loaded
      state={props.records}
      what="audit records"
      ready={(data) =>
        data.records.length === 0 ? (
          <p role="status">
            {props.filtered
              ? 'No audit records match these filters.'
              : props.page > 1
                ? 'No more audit records.'
                : 'No audit records yet.'}
          </p>
        ) : (
          <>
            <div className="table-scroll">
              <table className="audit">
                <caption>
                  Audit records, page {props.page} (seq {data.records[0]?.seq} to{' '}
                  {data.records.at(-1)?.seq})
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Seq</th>
                    <th scope="col">Time</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Detail</th>
                  </tr>
                </thead>
                <tbody>
                  {data.records.map((record) => (
                    <RecordRow key={record.seq} record={record} {...props} />
                  ))}
                </tbody>
              </table>
            </div>
            <Paging {...props} hasNext={data.nextCursor !== undefined} />
          </>
        )
      }
    />
  );
}

function RecordRow({
  record,
  problemSeq,
  selectedSeq,
  onSelect,
}: AuditRecordsProps & { record: AuditRecord }) {
  const broken = record.seq === problemSeq;
  return (
    <tr
      data-seq={record.seq}
      className={broken ? 'broken' : undefined}
      aria-current={selectedSeq === record.seq ? 'true' : undefined}
    >
      <th scope="row">
        {record.seq}
        {broken ? <span className="problem-mark"> (fails verification)</span> : null}
      </th>
      <td>
        <Time at={record.time} />
      </td>
      <td>
        <code>{actorText(record.actor)}</code>
      </td>
      <td>{record.action}</td>
      <td>
        <code>{targetText(record.target)}</code>
      </td>
      <td>
        <span className={`outcome outcome-${record.outcome}`}>{record.outcome}</span>
      </td>
      <td>
        <button type="button" onClick={() => onSelect(record.seq)}>
          Show <span className="visually-hidden">record {record.seq}</span>
        </button>
      </td>
    </tr>
  );
}

function Paging({ page, hasNext, onPrevious, onNext }: AuditRecordsProps & { hasNext: boolean }) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav className="paging" aria-label="Audit record pages">
      <button type="button" onClick={onPrevious} disabled={page === 1}>
        Previous page
      </button>{' '}
      <span>Page {page}</span>{' '}
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next page
      </button>
    </nav>
  );
}
