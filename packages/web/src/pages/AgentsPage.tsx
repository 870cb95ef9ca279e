import { useState } from 'react';
import { startAgentTask, type StartRequest } from '../agent-start.js';
import { useApp } from '../app-context.js';
import { resultOf, type Result, type Role } from '../client.js';
import { useLoad } from '../load.js';
import { navigate } from '../router.js';
import { AgentsView, type AgentsData } from '../views/AgentsView.js';
import type { StartError } from '../views/StartAgentTaskForm.js';

/** How often the list is read again, so states and counts change without a reload. */
export const agentsPollMs = 2000;

/** The roles the API lets start a task (the others may only read). */
const starters: readonly Role[] = ['owner', 'admin', 'member'];

// Known gap: owners and admins may list every task of the organization (`all=1`); this page
// shows the caller's own only, as `hangar agent list` does without --all.
/** The agents page: the caller's tasks, live, and the form that starts one. */
export function AgentsPage() {
  const { client, session } = useApp();
  const { state } = useLoad(
    async (): Promise<Result<AgentsData>> => {
      const [tasks, environments] = await Promise.all([
        resultOf(client.GET('/v1/agent-tasks')),
        resultOf(client.GET('/v1/environments')),
      ]);
      if (!tasks.ok) return tasks;
      if (!environments.ok) return environments;
      return {
        ok: true,
        data: { tasks: tasks.data.agentTasks, environments: environments.data.environments },
      };
    },
    'agents',
    agentsPollMs,
  );
  const policy = useLoad(() => resultOf(client.GET('/v1/org/policy')), 'policy');
  const [start, setStart] = useState({ busy: false, error: null as StartError | null });

  const onStart = async (request: StartRequest) => {
    setStart({ busy: true, error: null });
    const outcome = await startAgentTask(client, request);
    if (outcome.ok) return navigate(`/agents/${outcome.task.id}`);
    const error = {
      message: outcome.message,
      ...(outcome.task ? { taskId: outcome.task.id } : {}),
    };
    setStart({ busy: false, error });
  };

  // Without the policy (not loaded yet, or refused) the form offers every tool and asks for a
  // model; the control plane applies the policy either way.
  const agents = policy.state.kind === 'ready' ? policy.state.data.agents : undefined;
  return (
    <AgentsView
      data={state}
      userId={session.userId}
      start={
        starters.includes(session.role)
          ? {
              ...start,
              organizationModel: agents?.model,
              allowedTools: agents?.allowedTools,
              onStart: (request) => void onStart(request),
            }
          : null
      }
    />
  );
}
