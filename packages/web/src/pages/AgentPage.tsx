import { useEffect, useState } from 'react';
import { useApp } from '../app-context.js';
import { resultOf } from '../client.js';
import { useLoad } from '../load.js';
import { useTranscript } from '../use-transcript.js';
import { AgentTaskView } from '../views/AgentTaskView.js';

/** How often the task's record is read again, so its state and counts stay current. */
export const agentPollMs = 2000;

const unknownYet = { ok: false, message: 'the task is not loaded yet', status: 0 } as const;

/** One agent task: its record, live, its transcript from the runner, and stop. */
export function AgentPage({ id }: { id: string }) {
  const { client } = useApp();
  const path = { params: { path: { id } } };
  const { state, reload } = useLoad(
    () => resultOf(client.GET('/v1/agent-tasks/{id}', path)),
    id,
    agentPollMs,
  );
  // The environment stays known through a failed refresh, so the transcript stream goes on.
  const [where, setWhere] = useState<{ taskId: string; environmentId: string }>();
  const readyEnvironment = state.kind === 'ready' ? state.data.environmentId : undefined;
  useEffect(() => {
    if (readyEnvironment) setWhere({ taskId: id, environmentId: readyEnvironment });
  }, [id, readyEnvironment]);
  const environmentId = where?.taskId === id ? where.environmentId : undefined;

  const environment = useLoad(
    () =>
      environmentId
        ? resultOf(client.GET('/v1/environments/{id}', { params: { path: { id: environmentId } } }))
        : Promise.resolve(unknownYet),
    environmentId ?? '',
  );
  const { transcript, status } = useTranscript(client, id, environmentId);
  const [stop, setStop] = useState({ busy: false, error: null as string | null });

  const onStop = async () => {
    setStop({ busy: true, error: null });
    const result = await resultOf(client.POST('/v1/agent-tasks/{id}/stop', path));
    setStop({
      busy: false,
      error: result.ok ? null : `Could not stop the task: ${result.message}`,
    });
    await reload();
  };

  return (
    <AgentTaskView
      id={id}
      task={state}
      environmentName={environment.state.kind === 'ready' ? environment.state.data.name : undefined}
      transcript={transcript}
      follow={status}
      stop={{ ...stop, onStop: () => void onStop() }}
    />
  );
}
