import { useId } from 'react';
import type { AgentTask } from '../agent-tasks.js';
import type { Environment } from '../client.js';
import type { LoadState } from '../load.js';
import { Link } from '../router.js';
import { AgentTaskList } from './AgentTaskList.js';
import { Loaded, Loading } from './common.js';
import { StartAgentTaskForm, type StartAgentTaskFormProps } from './StartAgentTaskForm.js';

export interface AgentsData {
  tasks: AgentTask[];
  /** The environments the caller can list (for names), running or not. */
  environments: Environment[];
}

export interface AgentsViewProps {
  data: LoadState<AgentsData>;
  /** Who is signed in: tasks start only in their own running environments. */
  userId: string;
  /** The start form, or null for a role that cannot start tasks. */
  start: Omit<StartAgentTaskFormProps, 'environments'> | null;
}

function StartSection({
  data,
  userId,
  start,
}: {
  data: AgentsData;
  userId: string;
  start: NonNullable<AgentsViewProps['start']>;
}) {
  const running = data.environments.filter(
    (environment) => environment.status.phase === 'running' && environment.ownerId === userId,
  );
  if (running.length === 0) {
    return (
      <p>
        A task works in one of your running environments, and none runs now. Start or create one on
        the <Link href="/">Environments</Link> page.
      </p>
    );
  }
  return <StartAgentTaskForm environments={running} {...start} />;
}

/** The agents page: start a task, and every task of the caller with its live state. */
export function AgentsView({ data, userId, start }: AgentsViewProps) {
  const id = useId();
  return (
    <>
      <h1>Agents</h1>
      {start ? (
        <section aria-labelledby={`${id}-start`}>
          <h2 id={`${id}-start`}>Start a task</h2>
          {data.kind === 'ready' ? (
            <StartSection data={data.data} userId={userId} start={start} />
          ) : data.kind === 'loading' ? (
            <Loading what="your environments" />
          ) : (
            <p>The form needs your environments; see the error below.</p>
          )}
        </section>
      ) : null}
      <section aria-labelledby={`${id}-tasks`}>
        <h2 id={`${id}-tasks`}>Tasks</h2>
        <Loaded
          state={data}
          what="agent tasks"
          ready={({ tasks, environments }) => (
            <AgentTaskList
              tasks={tasks}
              environmentNames={new Map(environments.map((e) => [e.id, e.name]))}
            />
          )}
        />
      </section>
    </>
  );
}
