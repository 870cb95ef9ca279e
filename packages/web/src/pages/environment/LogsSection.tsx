import type { Environment } from '../../client.js';
import { useLoad } from '../../load.js';
import { LifecycleLogs } from '../../views/LifecycleLogs.js';
import { readLogs, type GrantCache } from './gateway-calls.js';

/**
 * The lifecycle logs, read again when the phase changes or a step finishes (the moments new
 * lines appear) and on demand; not on a timer, since every read is audited on the runner.
 */
export function LogsSection({
  environment,
  grants,
}: {
  environment: Environment;
  grants: GrantCache;
}) {
  const { id, status, spec } = environment;
  const finished = status.steps.filter((step) => step.finishedAt !== undefined).length;
  const gone = spec.desiredPhase === 'deleted' || status.phase === 'deleted';
  const { state, reload } = useLoad(
    () => (gone ? Promise.resolve({ ok: true as const, data: '' }) : readLogs(grants, id)),
    `${id}:${status.phase}:${status.steps.length}:${finished}:${gone}`,
  );
  const logs = gone
    ? { kind: 'unavailable' as const, reason: 'The environment is deleted, with its logs.' }
    : state;
  return <LifecycleLogs logs={logs} onRefresh={() => void reload()} />;
}
