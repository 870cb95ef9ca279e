import type { AuditRecord, ChainProblem } from '../audit/types.js';
import { Time } from './common.js';
import { useFocusOnMount } from './focus.js';

export interface AuditRecordDetailProps {
  record: AuditRecord;
  /** The chain check's first problem, when it is this record. */
  problem: ChainProblem | undefined;
  onClose: () => void;
}

/** Every field of one record, exactly as the control plane stored and hashed it. */
export function AuditRecordDetail({ record, problem, onClose }: AuditRecordDetailProps) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const details = Object.entries(record.details);
  return (
    <section className="record-detail" aria-labelledby={`record-${record.seq}-title`}>
      <h3 id={`record-${record.seq}-title`} ref={heading} tabIndex={-1}>
        Record {record.seq}: {record.action}
      </h3>
      {problem ? (
        <p className="error">The chain check fails at this record: {problem.reason}.</p>
      ) : null}
      <dl className="fields">
        <dt>Seq</dt>
        <dd>{record.seq}</dd>
        <dt>Time</dt>
        <dd>
          <code>{record.time}</code> (<Time at={record.time} />)
        </dd>
        <dt>Actor kind</dt>
        <dd>{record.actor.kind}</dd>
        <dt>Actor id</dt>
        <dd>
          <code>{record.actor.id}</code>
        </dd>
        <dt>On behalf of</dt>
        <dd>{record.actor.onBehalfOf ? <code>{record.actor.onBehalfOf}</code> : '—'}</dd>
        <dt>Action</dt>
        <dd>{record.action}</dd>
        <dt>Target</dt>
        <dd>
          {record.target ? (
            <>
              {record.target.kind} <code>{record.target.id}</code>
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>Outcome</dt>
        <dd>{record.outcome}</dd>
        <dt>Request id</dt>
        <dd>
          <code>{record.requestId}</code>
        </dd>
        <dt>Source address</dt>
        <dd>
          <code>{record.sourceAddress}</code>
        </dd>
        <dt>Details</dt>
        <dd>
          {details.length === 0 ? (
            '—'
          ) : (
            <dl className="details">
              {details.map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>
                    <code>{JSON.stringify(value)}</code>
                  </dd>
                </div>
              ))}
            </dl>
          )}
        </dd>
        <dt>Organization</dt>
        <dd>
          <code>{record.orgId}</code>
        </dd>
        <dt>Hash</dt>
        <dd>
          <code className="hash">{record.hash}</code>
        </dd>
        <dt>Previous hash</dt>
        <dd>
          <code className="hash">{record.prevHash}</code>
        </dd>
      </dl>
      <button type="button" onClick={onClose}>
        Close record {record.seq}
      </button>
    </section>
  );
}
