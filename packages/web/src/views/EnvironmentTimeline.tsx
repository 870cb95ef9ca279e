import type { Environment } from '../client.js';
import { Time } from './common.js';
import { ScrollRegion } from './ScrollRegion.js';

type Phase = Environment['status']['phase'];

/** A phase this page saw the environment in: since when, and when the page noticed. */
export interface SeenPhase {
  phase: Phase;
  /** When the runner says the phase began. */
  since: string;
  /** When this page first saw it. */
  seenAt: string;
}

export interface EnvironmentTimelineProps {
  environment: Environment;
  seen: readonly SeenPhase[];
}

/** Created, each lifecycle step, the conditions, the phases seen here, the last activity. */
export function EnvironmentTimeline({ environment, seen }: EnvironmentTimelineProps) {
  const { status } = environment;
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <dl className="facts">
        <dt>Created</dt>
        <dd>
          <Time at={environment.createdAt} />
        </dd>
        <dt>Last active</dt>
        <dd>
          {environment.lastActiveAt ? (
            <Time at={environment.lastActiveAt} />
          ) : (
            'no SSH, terminal, command, port or file activity reported yet'
          )}
        </dd>
      </dl>
      <Steps steps={status.steps} />
      <Conditions conditions={status.conditions} />
      <SeenPhases seen={seen} />
    </section>
  );
}

function Steps({ steps }: { steps: Environment['status']['steps'] }) {
  if (steps.length === 0) {
    return (
      <>
        <h3>Lifecycle steps</h3>
        <p>No lifecycle step has run yet.</p>
      </>
    );
  }
  return (
    <ScrollRegion label="Lifecycle steps">
      <table className="steps">
        <caption>Lifecycle steps</caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Exit code</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step, index) => (
            <tr key={`${step.name}-${index}`} data-step-row={step.name}>
              <th scope="row">{step.name}</th>
              <td className={`step-state step-${step.state}`}>{step.state}</td>
              <td>
                <Time at={step.startedAt} />
              </td>
              <td>{step.finishedAt ? <Time at={step.finishedAt} /> : '—'}</td>
              <td>{step.exitCode ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function Conditions({ conditions }: { conditions: Environment['status']['conditions'] }) {
  if (conditions.length === 0) {
    return (
      <>
        <h3>Conditions</h3>
        <p>The runner reported no conditions.</p>
      </>
    );
  }
  return (
    <ScrollRegion label="Conditions">
      <table className="conditions">
        <caption>Conditions</caption>
        <thead>
          <tr>
            <th scope="col">Condition</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {conditions.map((condition) => (
            <tr key={condition.type}>
              <th scope="row">{condition.type}</th>
              <td>{condition.status}</td>
              <td>
                <code>{condition.reason}</code>
              </td>
              <td>{condition.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

function SeenPhases({ seen }: { seen: readonly SeenPhase[] }) {
  return (
    <>
      <h3>Phases seen on this page</h3>
      {seen.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ol className="seen-phases">
          {seen.map((entry) => (
            <li key={`${entry.phase}-${entry.since}`} data-seen-phase={entry.phase}>
              <span className={`phase phase-${entry.phase}`}>{entry.phase}</span> since{' '}
              <Time at={entry.since} /> (seen here at <Time at={entry.seenAt} />)
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

/** The phases seen so far, with `environment`'s phase added when it is a new one. */
export function noteSeen(
  seen: readonly SeenPhase[],
  environment: Environment,
  now: Date = new Date(),
): readonly SeenPhase[] {
  const { phase, phaseChangedAt } = environment.status;
  const last = seen.at(-1);
  if (last && last.phase === phase && last.since === phaseChangedAt) return seen;
  return [...seen, { phase, since: phaseChangedAt, seenAt: now.toISOString() }];
}
