import { Loaded } from './common.js';
import type { GatewayState } from './gateway-state.js';

export interface LifecycleLogsProps {
  logs: GatewayState<string>;
  onRefresh: () => void;
}

/**
 * The end of the lifecycle log (what devcontainer.json's commands printed), read from the
 * runner's gateway straight into the page: the control plane never sees it.
 */
export function LifecycleLogs({ logs, onRefresh }: LifecycleLogsProps) {
  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Lifecycle logs</h2>
      <p className="note">
        Read from the runner directly; this text never passes the control plane.
      </p>
      {logs.kind === 'unavailable' ? (
        <p>{logs.reason}</p>
      ) : (
        <>
          <button type="button" onClick={onRefresh} disabled={logs.kind === 'loading'}>
            Refresh logs
          </button>
          <Loaded
            state={logs}
            what="the lifecycle logs"
            ready={(text) => <LogText text={text} />}
          />
        </>
      )}
    </section>
  );
}

function LogText({ text }: { text: string }) {
  if (text.length === 0) return <p>The lifecycle commands have printed nothing yet.</p>;
  // Focusable, so a keyboard can scroll a long log.
  return (
    <pre className="logs" tabIndex={0} aria-label="Lifecycle log output" data-logs="">
      {text}
    </pre>
  );
}
