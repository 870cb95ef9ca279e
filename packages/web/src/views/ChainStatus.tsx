import { useId, type FormEvent } from 'react';
import type { ExportCheck } from '../audit/verify-export.js';
import type { LoadState } from '../load.js';
import { ErrorNote } from './common.js';
import { counted } from './words.js';

export interface ChainStatusProps {
  check: LoadState<ExportCheck>;
  /** The key the reader pinned to check against, or '' for the control plane's own. */
  pinnedKey: string;
  onVerify: () => void;
  onPinKey: (key: string) => void;
  onDownloadJsonLines: () => void;
  onDownloadExport: () => void;
}

/**
 * The audit chain's verification, done in this browser: every record's hash and link, every
 * signed checkpoint against a trusted key. Shows the verified head, or the first problem.
 */
export function ChainStatus(props: ChainStatusProps) {
  const id = useId();
  const { check } = props;
  return (
    <section aria-labelledby={`${id}-title`} className="chain">
      <h2 id={`${id}-title`}>Chain verification</h2>
      <p>
        This browser recomputes every record&apos;s hash and its link to the record before, and
        checks every signed checkpoint with the control plane&apos;s Ed25519 key, as{' '}
        <code>hangar audit verify</code> does.
      </p>
      <div aria-live="polite">
        {check.kind === 'loading' ? <p role="status">Verifying the audit chain…</p> : null}
        {check.kind === 'error' ? (
          <ErrorNote>Could not verify the audit chain: {check.message}</ErrorNote>
        ) : null}
        {check.kind === 'ready' ? <Outcome check={check.data} /> : null}
      </div>
      <div className="actions">
        <button type="button" onClick={props.onVerify} disabled={check.kind === 'loading'}>
          Verify again
        </button>{' '}
        <button type="button" onClick={props.onDownloadJsonLines} disabled={check.kind !== 'ready'}>
          Download records (JSON Lines)
        </button>{' '}
        <button type="button" onClick={props.onDownloadExport} disabled={check.kind !== 'ready'}>
          Download the export (JSON)
        </button>
      </div>
      <p className="hint">
        The records file holds one record per line; the export file also holds the signed
        checkpoints and is what <code>hangar audit verify --file</code> reads.
      </p>
      <PinKeyForm pinnedKey={props.pinnedKey} onPinKey={props.onPinKey} />
    </section>
  );
}

function Outcome({ check }: { check: ExportCheck }) {
  const key = (
    <>
      <code>{check.publicKeyFingerprint}</code>{' '}
      {check.keySource === 'pinned' ? '(the key you pinned)' : "(the control plane's key)"}
    </>
  );
  if (!check.ok && check.problem) {
    return (
      <div
        className="verification broken"
        role="alert"
        data-verification="broken"
        data-seq={check.problem.seq}
      >
        <p>
          <strong>Broken</strong> at record seq {check.problem.seq}: {check.problem.reason}.
        </p>
        <p>
          The chain of {check.orgId} holds {counted(check.records, 'record')} and{' '}
          {counted(check.checkpoints, 'signed checkpoint')}; it verifies up to seq{' '}
          {Math.min(check.headSeq, check.problem.seq - 1)}, and nothing from seq {check.problem.seq}{' '}
          on can be trusted. Signing key: {key}.
        </p>
        <ExportKeyNote check={check} />
      </div>
    );
  }
  return (
    <div className="verification verified" role="status" data-verification="verified">
      <p>
        <strong>Verified</strong>: {counted(check.records, 'record')},{' '}
        {counted(check.checkpoints, 'signed checkpoint')}, head seq {check.headSeq}.
      </p>
      <dl>
        <dt>Head hash</dt>
        <dd>
          <code className="hash">{check.headHash}</code>
        </dd>
        <dt>Signing key</dt>
        <dd>{key}</dd>
      </dl>
      {check.checkpoints === 0 && check.records > 0 ? (
        <p className="warning">
          The export holds no signed checkpoint: nothing ties the chain to the control plane.
        </p>
      ) : null}
      <ExportKeyNote check={check} />
    </div>
  );
}

function ExportKeyNote({ check }: { check: ExportCheck }) {
  if (!check.exportKeyFingerprint) return null;
  return (
    <p className="warning">
      The export names signing key <code>{check.exportKeyFingerprint}</code>, not the trusted one;
      its checkpoints were checked against the trusted key.
    </p>
  );
}

function PinKeyForm({ pinnedKey, onPinKey }: Pick<ChainStatusProps, 'pinnedKey' | 'onPinKey'>) {
  const id = useId();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const key = new FormData(event.currentTarget).get('key');
    onPinKey(typeof key === 'string' ? key.trim() : '');
  };
  return (
    <details className="pin-key" open={pinnedKey !== ''}>
      <summary>Check against a key you trust</summary>
      <p className="hint">
        The control plane that serves this page also names its own key. To check against a key taken
        elsewhere (the <code>publicKey</code> of <code>GET /v1/health</code>, read where you trust
        it), pin it here; leave it empty to use the control plane&apos;s again.
      </p>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-key`}>Control plane public key (Ed25519, base64url)</label>
        <input
          id={`${id}-key`}
          name="key"
          type="text"
          defaultValue={pinnedKey}
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit">Check with this key</button>
      </form>
    </details>
  );
}
