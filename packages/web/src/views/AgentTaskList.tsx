import type { AgentTask } from '../agent-tasks.js';
import { Link } from '../router.js';
import { Time } from './common.js';

export interface AgentTaskListProps {
  tasks: AgentTask[];
  /** Environment names by id, for the tasks whose environment the caller can list. */
  environmentNames: ReadonlyMap<string, string>;
}

/** The caller's agent tasks, newest first, with their live state and counts. */
export function AgentTaskList({ tasks, environmentNames }: AgentTaskListProps) {
  if (tasks.length === 0) {
    return <p role="status">No agent tasks yet.</p>;
  }
  const newestFirst = [...tasks].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <div className="table-scroll">
      <table className="agent-tasks">
        <caption>Agent tasks</caption>
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">State</th>
            <th scope="col">Environment</th>
            <th scope="col">Model</th>
            <th scope="col">Steps</th>
            <th scope="col">Tokens</th>
            <th scope="col">Started</th>
            <th scope="col">Ended</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((task) => (
            <TaskRow
              key={task.id}
              task={task}
              environmentName={environmentNames.get(task.environmentId)}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TaskRow({ task, environmentName }: { task: AgentTask; environmentName?: string }) {
  const tokens = task.inputTokens + task.outputTokens;
  return (
    <tr data-task={task.id}>
      <th scope="row">
        <Link href={`/agents/${task.id}`}>{task.id}</Link>
      </th>
      <td>
        <span className={`state state-${task.state}`} data-state={task.state}>
          {task.state}
        </span>
        {task.reason ? (
          <>
            {' '}
            <code>{task.reason}</code>
          </>
        ) : null}
      </td>
      <td>
        <Link href={`/environments/${task.environmentId}`}>
          {environmentName ?? task.environmentId}
        </Link>
      </td>
      <td>{task.model}</td>
      <td>
        {task.steps} of {task.limits.maxSteps}
      </td>
      <td>
        {tokens} of {task.limits.maxTokens}
        <span className="detail">
          {' '}
          ({task.inputTokens} in, {task.outputTokens} out)
        </span>
      </td>
      <td>
        <Time at={task.startedAt} />
      </td>
      <td>{task.endedAt ? <Time at={task.endedAt} /> : 'running'}</td>
    </tr>
  );
}
