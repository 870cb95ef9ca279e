import { useId } from 'react';
import { isFinalState, type AgentTask } from '../agent-tasks.js';
import type { LoadState } from '../load.js';
import { Link } from '../router.js';
import type { TranscriptModel } from '../transcript.js';
import type { FollowStatus } from '../transcript-stream.js';
import { ErrorNote, Loaded, Time } from './common.js';
import { TranscriptView } from './TranscriptView.js';

export interface AgentTaskViewProps {
  id: string;
  task: LoadState<AgentTask>;
  /** The environment's name, when the page knows it. */
  environmentName: string | undefined;
  transcript: TranscriptModel;
  follow: FollowStatus;
  stop: { busy: boolean; error: string | null; onStop: () => void };
}

/** The task's state and why it ended, and the stop button while it runs. */
function Header({ task, stop }: { task: AgentTask; stop: AgentTaskViewProps['stop'] }) {
  const running = !isFinalState(task.state);
  return (
    <div className="task-state">
      <p>
        State:{' '}
        <span className={`state state-${task.state}`} data-state={task.state}>
          {task.state}
        </span>
        {task.reason ? (
          <>
            {' '}
            — reason: <code>{task.reason}</code>
          </>
        ) : null}
      </p>
      {running ? (
        <button type="button" className="danger" disabled={stop.busy} onClick={stop.onStop}>
          {stop.busy ? 'Stopping…' : 'Stop task'}
        </button>
      ) : null}
      {stop.error ? <ErrorNote>{stop.error}</ErrorNote> : null}
    </div>
  );
}

function wallTimeS(task: AgentTask): number | undefined {
  if (!task.startedAt || !task.endedAt) return undefined;
  return Math.round((Date.parse(task.endedAt) - Date.parse(task.startedAt)) / 1000);
}

/**
 * The task's counts against its limits. The control plane's record moves when the runner
 * reports; the transcript moves with every line, so the larger of the two is shown.
 */
function Counts({ task, transcript }: { task: AgentTask; transcript: TranscriptModel }) {
  const { limits } = task;
  const ended = transcript.ended;
  const steps = Math.max(task.steps, transcript.steps);
  const inputTokens = Math.max(task.inputTokens, transcript.inputTokens);
  const outputTokens = Math.max(task.outputTokens, transcript.outputTokens);
  const toolCalls = ended?.toolCalls ?? transcript.toolCalls;
  const malformed = ended?.malformed ?? transcript.malformed;
  const wall = wallTimeS(task);
  const rows: [string, number | string, number | string][] = [
    ['Steps', steps, limits.maxSteps],
    ['Tokens in', inputTokens, ''],
    ['Tokens out', outputTokens, ''],
    ['Tokens in all', inputTokens + outputTokens, limits.maxTokens],
    ['Tool calls', toolCalls, ''],
    ['Malformed model outputs', malformed, ''],
    ['Wall time (seconds)', wall ?? '—', limits.maxWallTimeS],
    ['Command timeout (seconds)', '—', limits.commandTimeoutS],
  ];
  return (
    <table className="counts">
      <caption>Counts and limits</caption>
      <thead>
        <tr>
          <th scope="col">Count</th>
          <th scope="col">Used</th>
          <th scope="col">Limit</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, used, limit]) => (
          <tr key={name} data-count={name}>
            <th scope="row">{name}</th>
            <td>{used}</td>
            <td>{limit}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Details({ task, environmentName }: { task: AgentTask; environmentName?: string }) {
  return (
    <dl className="details">
      <dt>Model</dt>
      <dd>{task.model}</dd>
      <dt>Kind</dt>
      <dd>{task.kind === 'loop' ? 'the built-in agent loop' : 'an agent program'}</dd>
      <dt>Tools</dt>
      <dd>{task.tools.length > 0 ? task.tools.join(', ') : 'none'}</dd>
      <dt>Environment</dt>
      <dd>
        <Link href={`/environments/${task.environmentId}`}>
          {environmentName ?? task.environmentId}
        </Link>
      </dd>
      <dt>Created</dt>
      <dd>
        <Time at={task.createdAt} />
      </dd>
      <dt>Started</dt>
      <dd>
        <Time at={task.startedAt} />
      </dd>
      <dt>Ended</dt>
      <dd>{task.endedAt ? <Time at={task.endedAt} /> : 'not yet'}</dd>
    </dl>
  );
}

/** One agent task: its record from the control plane and its transcript from the runner. */
export function AgentTaskView(props: AgentTaskViewProps) {
  const id = useId();
  return (
    <>
      <h1>
        Agent task <code>{props.id}</code>
      </h1>
      <p>
        <Link href="/agents">All agent tasks</Link>
      </p>
      <Loaded
        state={props.task}
        what="the agent task"
        ready={(task) => (
          <>
            <Header task={task} stop={props.stop} />
            <section aria-labelledby={`${id}-about`}>
              <h2 id={`${id}-about`}>About this task</h2>
              <Details task={task} environmentName={props.environmentName} />
              <Counts task={task} transcript={props.transcript} />
            </section>
          </>
        )}
      />
      {/* A failed refresh of the record leaves the transcript read so far in view. */}
      {props.task.kind === 'ready' || props.transcript.items.length > 0 ? (
        <TranscriptView transcript={props.transcript} status={props.follow} />
      ) : null}
    </>
  );
}
